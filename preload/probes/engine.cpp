#include "engine.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

extern "C" {
// pad.S: the hook returns to one of these; it jumps on to %r12 (the
// trampoline).  Their CFI rebuilds the program's frame from the registers the
// trampoline saved (at %rbx), so unwinders walk on into the program's code.
extern char ltp_call_pad[] __attribute__((visibility("hidden")));
extern char ltp_syscall_pad[] __attribute__((visibility("hidden")));
}

namespace ltp {

namespace {

csh g_cs;
bool g_ready;
bool g_xsave;            // XSAVE usable (else FXSAVE)
uint32_t g_xsave_size;   // bytes, multiple of 64
uint64_t g_xsave_mask;   // components saved
long g_page;

/* ---- trampoline memory near the target (rel32 reach) -------------------- */

struct chunk {
    uint8_t *base;
    size_t size, used;
};
std::vector<chunk> g_chunks;
uint64_t g_tramp_bytes;
const size_t CHUNK = 64 * 1024;
const int64_t REACH = 0x7ff00000; // what a rel32 can reach, with some margin

bool near(uint64_t a, uint64_t b, size_t extra) { return (int64_t)(a - b) < REACH - (int64_t)extra && (int64_t)(b - a) < REACH - (int64_t)extra; }

uint8_t *alloc_near(uint64_t target, size_t len)
{
    len = (len + 15) & ~(size_t)15;
    for (chunk &c : g_chunks)
        if (c.size - c.used >= len && near((uint64_t)c.base, target, CHUNK)) {
            uint8_t *p = c.base + c.used;
            c.used += len;
            return p;
        }
    // Look for a free range within reach: try addresses at growing distance
    // on both sides; MAP_FIXED_NOREPLACE fails fast where something lives.
    uint64_t t = target & ~(uint64_t)(CHUNK - 1);
    for (uint64_t d = CHUNK; d < (uint64_t)REACH - 2 * CHUNK; d += (d < (64u << 20) ? CHUNK : (1u << 20))) {
        for (int side = 0; side < 2; ++side) {
            uint64_t hint = side ? t - d : t + d;
            if (side && t < d)
                continue;
            void *p = mmap((void *)hint, CHUNK, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED)
                continue;
            if ((uint64_t)p != hint) { // old kernel without MAP_FIXED_NOREPLACE: took a hint only
                if (!near((uint64_t)p, target, CHUNK)) {
                    munmap(p, CHUNK);
                    continue;
                }
            }
            g_chunks.push_back({(uint8_t *)p, CHUNK, len});
            g_tramp_bytes += CHUNK;
            return (uint8_t *)p;
        }
    }
    return nullptr;
}

/* ---- code emission ----------------------------------------------------- */

struct emitter {
    uint8_t buf[1024];
    size_t n = 0;
    uint64_t base; // final address of buf[0]
    bool overflow = false;
    explicit emitter(uint64_t b) : base(b) {}
    uint64_t here() const { return base + n; }
    void b(std::initializer_list<uint8_t> bytes)
    {
        for (uint8_t x : bytes)
            byte(x);
    }
    void byte(uint8_t x)
    {
        if (n < sizeof buf)
            buf[n++] = x;
        else
            overflow = true;
    }
    void u32(uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            byte((uint8_t)(v >> (8 * i)));
    }
    void u64(uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            byte((uint8_t)(v >> (8 * i)));
    }
    void raw(const uint8_t *p, size_t len)
    {
        for (size_t i = 0; i < len; ++i)
            byte(p[i]);
    }
    void jmp_abs(uint64_t to) // jmp *0(%rip); .quad to
    {
        b({0xff, 0x25, 0, 0, 0, 0});
        u64(to);
    }
};

enum frame_kind { FRAME_CALL, FRAME_SYSCALL };

// The light save (site::scalar_abi): xmm0-15 at 16N(%rsp), MXCSR at 256,
// rounded up to the 64-byte alignment of the area.
const uint32_t k_light_save_size = 320;

// movaps between %xmmN and 16N(%rsp): op 0x29 stores, 0x28 loads.
void emit_xmm_slot(emitter &e, uint8_t op, uint8_t x)
{
    if (x >= 8)
        e.byte(0x44); // REX.R: xmm8-15
    e.b({0x0f, op, (uint8_t)(0x84 | (x & 7) << 3), 0x24});
    e.u32(16u * x);
}

// Save everything, call `dispatch(regs *, site *)`, restore everything.
// FRAME_SYSCALL: `resume_ip` is the address right after the original syscall
// instruction, the "return address" through which unwinders (ltp_syscall_pad's
// CFI) reach the patched libc function.  The layout (0x80 / 0x90 below %rsp,
// regs at %rbx) is what pad.S's CFI assumes: change both together.
void emit_hook(emitter &e, frame_kind kind, uint64_t dispatch, site *s, uint64_t resume_ip = 0)
{
    if (kind == FRAME_CALL)
        e.b({0x48, 0x8d, 0x64, 0x24, 0x80}); // lea -0x80(%rsp),%rsp: skip the red zone
    else
        e.b({0x48, 0x8d, 0xa4, 0x24, 0x70, 0xff, 0xff, 0xff}); // lea -0x90(%rsp),%rsp: red zone + fake frame
    e.b({0x9c});                                               // pushfq
    e.b({0x50, 0x53, 0x51, 0x52, 0x56, 0x57, 0x55});           // rax rbx rcx rdx rsi rdi rbp
    for (uint8_t r = 0; r < 8; ++r)
        e.b({0x41, (uint8_t)(0x50 + r)}); // r8..r15
    e.b({0x48, 0x89, 0xe3});              // mov %rsp,%rbx  (regs *)
    if (kind == FRAME_CALL) {
        // Fake frame right below the return address: [orig rbp][return address].
        e.b({0x48, 0x89, 0xab, 0xf8, 0, 0, 0}); // mov %rbp,0xf8(%rbx)
        e.b({0x48, 0x8d, 0xab, 0xf8, 0, 0, 0}); // lea 0xf8(%rbx),%rbp
    } else {
        // Mid-function: no return address to borrow; the fake frame's is the
        // instruction after the original syscall (r11 is saved already).
        e.b({0x48, 0x89, 0xab, 0x80, 0, 0, 0}); // mov %rbp,0x80(%rbx)
        e.b({0x49, 0xbb});                      // movabs $resume_ip,%r11
        e.u64(resume_ip);
        e.b({0x4c, 0x89, 0x9b, 0x88, 0, 0, 0}); // mov %r11,0x88(%rbx)
        e.b({0x48, 0x8d, 0xab, 0x80, 0, 0, 0}); // lea 0x80(%rbx),%rbp
    }
    e.b({0x48, 0x83, 0xe4, 0xc0}); // and $-64,%rsp
    e.b({0x48, 0x81, 0xec});       // sub $size,%rsp
    bool light = kind == FRAME_CALL && s->scalar_abi;
    e.u32(light ? k_light_save_size : g_xsave_size);
    if (light) {
        for (uint8_t x = 0; x < 16; ++x)
            emit_xmm_slot(e, 0x29, x); // movaps %xmmN,16N(%rsp)
        e.b({0x0f, 0xae, 0x9c, 0x24}); // stmxcsr 256(%rsp)
        e.u32(256);
    } else if (g_xsave) {
        e.b({0x31, 0xc0}); // xor %eax,%eax: XRSTOR wants a clean XSAVE header
        for (uint32_t off = 512; off < 576; off += 8) {
            e.b({0x48, 0x89, 0x84, 0x24});
            e.u32(off);
        }
        e.byte(0xb8);
        e.u32((uint32_t)g_xsave_mask);
        e.byte(0xba);
        e.u32((uint32_t)(g_xsave_mask >> 32));
        e.b({0x48, 0x0f, 0xae, 0x24, 0x24}); // xsave64 (%rsp)
    } else {
        e.b({0x48, 0x0f, 0xae, 0x04, 0x24}); // fxsave64 (%rsp)
    }
    e.byte(0xfc);              // cld (the ABI's direction flag)
    e.b({0x48, 0x89, 0xdf});   // mov %rbx,%rdi
    e.b({0x48, 0xbe});         // movabs $site,%rsi
    e.u64((uint64_t)s);
    e.b({0x49, 0xbb});         // movabs $pad,%r11
    e.u64((uint64_t)(kind == FRAME_CALL ? ltp_call_pad : ltp_syscall_pad));
    e.b({0x41, 0x53});         // push %r11: the hook "returns" into the pad
    e.b({0x4c, 0x8d, 0x25});   // lea after(%rip),%r12
    size_t fix = e.n;
    e.u32(0);
    size_t after_lea = e.n;
    e.b({0x48, 0xb8}); // movabs $dispatch,%rax
    e.u64(dispatch);
    e.b({0xff, 0xe0}); // jmp *%rax
    int32_t rel = (int32_t)(e.n - after_lea);
    memcpy(e.buf + fix, &rel, 4);
    if (light) {
        for (uint8_t x = 0; x < 16; ++x)
            emit_xmm_slot(e, 0x28, x); // movaps 16N(%rsp),%xmmN
        e.b({0x0f, 0xae, 0x94, 0x24}); // ldmxcsr 256(%rsp)
        e.u32(256);
    } else if (g_xsave) {
        e.byte(0xb8);
        e.u32((uint32_t)g_xsave_mask);
        e.byte(0xba);
        e.u32((uint32_t)(g_xsave_mask >> 32));
        e.b({0x48, 0x0f, 0xae, 0x2c, 0x24}); // xrstor64 (%rsp)
    } else {
        e.b({0x48, 0x0f, 0xae, 0x0c, 0x24}); // fxrstor64 (%rsp)
    }
    e.b({0x48, 0x89, 0xdc}); // mov %rbx,%rsp
    for (int r = 7; r >= 0; --r)
        e.b({0x41, (uint8_t)(0x58 + r)});             // r15..r8
    e.b({0x5d, 0x5f, 0x5e, 0x5a, 0x59, 0x5b, 0x58}); // rbp rdi rsi rdx rcx rbx rax
    e.byte(0x9d);                                    // popfq
    if (kind == FRAME_CALL)
        e.b({0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0}); // lea 0x80(%rsp),%rsp
    else
        e.b({0x48, 0x8d, 0xa4, 0x24, 0x90, 0, 0, 0}); // lea 0x90(%rsp),%rsp
}

/* ---- decoding and relocation ------------------------------------------- */

struct decoded {
    std::vector<cs_insn *> insns;
    ~decoded()
    {
        for (cs_insn *i : insns)
            cs_free(i, 1);
    }
};

bool is_relative_branch(const cs_insn *in, uint64_t *target)
{
    const cs_detail *d = in->detail;
    bool branch = false;
    for (uint8_t g = 0; g < d->groups_count; ++g)
        if (d->groups[g] == CS_GRP_JUMP || d->groups[g] == CS_GRP_CALL || d->groups[g] == CS_GRP_BRANCH_RELATIVE)
            branch = true;
    if (!branch || d->x86.op_count != 1 || d->x86.operands[0].type != X86_OP_IMM)
        return false;
    *target = (uint64_t)d->x86.operands[0].imm;
    return true;
}

bool uses_rip(const cs_insn *in, int *mem_op)
{
    const cs_x86 &x = in->detail->x86;
    for (uint8_t i = 0; i < x.op_count; ++i)
        if (x.operands[i].type == X86_OP_MEM && x.operands[i].mem.base == X86_REG_RIP) {
            *mem_op = i;
            return true;
        }
    return false;
}

bool ends_flow(const cs_insn *in)
{
    switch (in->id) {
    case X86_INS_RET: case X86_INS_RETF: case X86_INS_JMP: case X86_INS_LJMP: case X86_INS_UD2: case X86_INS_HLT:
    case X86_INS_INT3:
        return true;
    default:
        return false;
    }
}

std::string hex(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

// Copies one instruction to the trampoline, fixing what depends on its address.
bool relocate(emitter &e, const cs_insn *in, uint64_t lo, uint64_t hi, std::string *why)
{
    uint64_t target;
    if (is_relative_branch(in, &target)) {
        if (target > lo && target < hi) {
            *why = "instruction '" + std::string(in->mnemonic) + " " + in->op_str + "' at " + hex(in->address) +
                   " branches inside the bytes the probe overwrites";
            return false;
        }
        const cs_x86 &x = in->detail->x86;
        if (in->id == X86_INS_CALL) {
            e.b({0xff, 0x15, 2, 0, 0, 0}); // call *2(%rip)
            e.b({0xeb, 0x08});             // jmp over the address
            e.u64(target);
            return true;
        }
        if (in->id == X86_INS_JMP) {
            e.jmp_abs(target);
            return true;
        }
        // Conditional: jcc/jrcxz/loop as a short jump over "jmp next", into an absolute jump.
        uint8_t op0 = x.opcode[0], op1 = x.opcode[1];
        if (x.prefix[3] == 0x67) { // jecxz / loop with ecx: keep it simple
            *why = "instruction '" + std::string(in->mnemonic) + "' with an address-size prefix cannot be relocated";
            return false;
        }
        if (op0 >= 0x70 && op0 <= 0x7f)
            e.byte(op0);
        else if (op0 == 0x0f && op1 >= 0x80 && op1 <= 0x8f)
            e.byte((uint8_t)(0x70 | (op1 & 0x0f)));
        else if (op0 >= 0xe0 && op0 <= 0xe3)
            e.byte(op0);
        else {
            *why = "relative branch '" + std::string(in->mnemonic) + "' cannot be relocated";
            return false;
        }
        e.byte(2);                 // taken: skip the next 2-byte jump
        e.b({0xeb, 14});           // not taken: skip the absolute jump
        e.jmp_abs(target);
        return true;
    }
    int op;
    if (uses_rip(in, &op)) {
        const cs_x86 &x = in->detail->x86;
        if (!x.encoding.disp_offset || x.encoding.disp_size != 4) {
            *why = "instruction '" + std::string(in->mnemonic) + " " + in->op_str + "' has a RIP-relative operand Capstone gives no 32-bit displacement for";
            return false;
        }
        uint64_t data = in->address + in->size + (int64_t)x.operands[op].mem.disp;
        int64_t nd = (int64_t)(data - (e.here() + in->size));
        if (nd != (int32_t)nd) {
            *why = "RIP-relative operand of '" + std::string(in->mnemonic) + " " + in->op_str + "' is out of reach from the trampoline";
            return false;
        }
        size_t at = e.n;
        e.raw(in->bytes, in->size);
        int32_t d32 = (int32_t)nd;
        if (!e.overflow)
            memcpy(e.buf + at + x.encoding.disp_offset, &d32, 4);
        return true;
    }
    e.raw(in->bytes, in->size);
    return true;
}

// Disassembles [lo, hi) linearly; stops (false) at the first undecodable byte.
bool disassemble(uint64_t lo, uint64_t hi, decoded *out, uint64_t *stopped)
{
    const uint8_t *code = (const uint8_t *)lo;
    size_t size = hi - lo;
    uint64_t addr = lo;
    while (size) {
        cs_insn *in = cs_malloc(g_cs);
        if (!cs_disasm_iter(g_cs, &code, &size, &addr, in)) {
            cs_free(in, 1);
            *stopped = addr;
            return false;
        }
        out->insns.push_back(in);
    }
    *stopped = addr;
    return true;
}

// Any relative branch in the function whose target is strictly inside (lo, hi)?
bool branch_into(uint64_t fn_lo, uint64_t fn_hi, uint64_t lo, uint64_t hi, std::string *why)
{
    const uint8_t *code = (const uint8_t *)fn_lo;
    size_t size = fn_hi - fn_lo;
    uint64_t addr = fn_lo;
    cs_insn *in = cs_malloc(g_cs);
    bool found = false;
    while (size && !found) {
        if (!cs_disasm_iter(g_cs, &code, &size, &addr, in)) {
            // Data or padding inside the function: skip a byte, keep looking.
            ++code;
            --size;
            ++addr;
            continue;
        }
        uint64_t t;
        if (is_relative_branch(in, &t) && t > lo && t < hi) {
            *why = "the " + std::string(in->mnemonic) + " at " + hex(in->address) + " (+" + hex(in->address - fn_lo) +
                   ") jumps to " + hex(t) + ", inside the bytes the probe would overwrite";
            found = true;
        }
    }
    cs_free(in, 1);
    return found;
}

bool write_jump(uint64_t at, uint64_t to, std::string *why)
{
    int64_t rel = (int64_t)to - (int64_t)(at + 5);
    if (rel != (int32_t)rel) {
        *why = "trampoline out of rel32 reach";
        return false;
    }
    uint8_t j[5] = {0xe9};
    int32_t r32 = (int32_t)rel;
    memcpy(j + 1, &r32, 4);
    uint64_t pg_lo = at & ~(uint64_t)(g_page - 1), pg_hi = (at + 5 + g_page - 1) & ~(uint64_t)(g_page - 1);
    if (mprotect((void *)pg_lo, pg_hi - pg_lo, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        *why = std::string("mprotect(RWX) of the code page failed: ") + strerror(errno);
        return false;
    }
    uint64_t q = at & ~(uint64_t)7;
    if ((at & 7) + 5 <= 8) {
        // One aligned quadword: a single store, no thread ever sees half of it.
        uint64_t old = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED), nw = old;
        memcpy((uint8_t *)&nw + (at & 7), j, 5);
        __atomic_store_n((uint64_t *)q, nw, __ATOMIC_SEQ_CST);
    } else if ((at & 7) + 2 <= 8) {
        // Park arrivals on a 2-byte self-jump, write the tail, then the head.
        uint64_t old = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED), nw = old;
        const uint8_t spin[2] = {0xeb, 0xfe};
        memcpy((uint8_t *)&nw + (at & 7), spin, 2);
        __atomic_store_n((uint64_t *)q, nw, __ATOMIC_SEQ_CST);
        for (int i = 2; i < 5; ++i)
            __atomic_store_n((uint8_t *)(at + i), j[i], __ATOMIC_SEQ_CST);
        old = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED);
        nw = old;
        memcpy((uint8_t *)&nw + (at & 7), j, 2);
        __atomic_store_n((uint64_t *)q, nw, __ATOMIC_SEQ_CST);
    } else {
        // The first two bytes straddle a quadword: tail first, opcode last.
        for (int i = 4; i >= 0; --i)
            __atomic_store_n((uint8_t *)(at + i), j[i], __ATOMIC_SEQ_CST);
    }
    __builtin___clear_cache((char *)at, (char *)at + 5);
    mprotect((void *)pg_lo, pg_hi - pg_lo, PROT_READ | PROT_EXEC);
    return true;
}

bool install(emitter &e, uint8_t *mem, size_t reserved, std::string *why)
{
    if (e.overflow || e.n > reserved) {
        *why = "trampoline too large";
        return false;
    }
    memcpy(mem, e.buf, e.n);
    // Give back what the reservation did not use (it was the latest one).
    for (chunk &c : g_chunks)
        if (mem >= c.base && mem + reserved == c.base + c.used)
            c.used -= reserved - ((e.n + 15) & ~(size_t)15);
    __builtin___clear_cache((char *)mem, (char *)mem + e.n);
    return true;
}

/* ---- shadow stack for return probes ------------------------------------ */

struct shadow_entry {
    uint64_t ret, sp;
    site *s;
    uint64_t cookie, extra;
};
const unsigned SHADOW_MAX = 64;
__thread shadow_entry t_shadow[SHADOW_MAX] __attribute__((tls_model("initial-exec")));
__thread unsigned t_shadow_depth __attribute__((tls_model("initial-exec")));

} // namespace

/* ---- dispatchers: called from the trampolines -------------------------- */

extern "C" __attribute__((visibility("hidden"), used)) void ltp_entry_dispatch(regs *r, site *s)
{
    uint64_t sp = (uint64_t)r + sizeof(regs) + 128; // the return address
    uint64_t extra = 0;
    uint64_t cookie = s->on_entry ? s->on_entry(r, s, sp, &extra) : 0;
    if (s->on_return && t_shadow_depth < SHADOW_MAX) {
        // Entries left by frames that were unwound past (longjmp, exceptions
        // caught above) sit above the current stack pointer: drop them.
        while (t_shadow_depth && t_shadow[t_shadow_depth - 1].sp <= sp)
            --t_shadow_depth;
        t_shadow[t_shadow_depth++] = {*(uint64_t *)sp, sp, s, cookie, extra};
        if (!s->exits)
            *(uint64_t *)sp = s->ret_tramp;
    }
}

// Reached from a patched `ret`: %rsp points at the (untouched) return address,
// which is where it pointed at the entry.
extern "C" __attribute__((visibility("hidden"), used)) void ltp_exit_dispatch(regs *r, site *s)
{
    uint64_t sp = (uint64_t)r + sizeof(regs) + 128;
    while (t_shadow_depth && t_shadow[t_shadow_depth - 1].sp < sp)
        --t_shadow_depth;
    if (!t_shadow_depth || t_shadow[t_shadow_depth - 1].sp != sp || t_shadow[t_shadow_depth - 1].s != s)
        return; // entry not seen (shadow stack was full): no return event rather than a wrong one
    shadow_entry &e = t_shadow[--t_shadow_depth];
    s->on_return(r, s, e.cookie, e.extra);
}

extern "C" __attribute__((visibility("hidden"), used)) void ltp_return_dispatch(regs *r, site *s)
{
    uint64_t *slot = (uint64_t *)((uint64_t)r + sizeof(regs) + 128); // placeholder pushed by the return trampoline
    uint64_t sp = (uint64_t)slot;                                    // == the entry's sp
    while (t_shadow_depth && t_shadow[t_shadow_depth - 1].sp < sp)
        --t_shadow_depth;
    if (!t_shadow_depth || t_shadow[t_shadow_depth - 1].sp != sp || t_shadow[t_shadow_depth - 1].s != s) {
        static const char msg[] = "locktrace: probe return without a matching entry: cannot continue\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        abort();
    }
    shadow_entry &e = t_shadow[--t_shadow_depth];
    *slot = e.ret; // before the hook runs: its stack walk goes through here
    s->on_return(r, s, e.cookie, e.extra);
}

extern "C" __attribute__((visibility("hidden"), used)) void ltp_syscall_before(regs *r, site *s)
{
    if (s->before_syscall)
        s->before_syscall(r, s);
}

extern "C" __attribute__((visibility("hidden"), used)) void ltp_syscall_after(regs *r, site *s)
{
    if (s->after_syscall)
        s->after_syscall(r, s);
}

/* ---- public ------------------------------------------------------------ */

bool engine_init(std::string *why)
{
    if (g_ready)
        return true;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &g_cs) != CS_ERR_OK) {
        *why = "Capstone cs_open failed";
        return false;
    }
    cs_option(g_cs, CS_OPT_DETAIL, CS_OPT_ON);
    g_page = sysconf(_SC_PAGESIZE);
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    bool osxsave = (c & (1u << 27)) != 0;
    if (osxsave && __get_cpuid_max(0, nullptr) >= 0xd) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
        g_xsave_mask = xcr0 & 0xe7; // x87, SSE, AVX, AVX-512 state (not AMX tiles)
        __cpuid_count(0xd, 0, a, b, c, d);
        g_xsave_size = (b + 63) & ~63u;
        g_xsave = g_xsave_size >= 576;
    }
    if (!g_xsave)
        g_xsave_size = 512;
    g_ready = true;
    return true;
}

uint64_t trampoline_bytes() { return g_tramp_bytes; }

namespace {

// One patched exit: the whole instructions [from, ret_end) ending in a `ret`.
struct exit_plan {
    uint64_t from, ret_end;
    std::vector<const cs_insn *> insns;
};

// Plans a hook before every `ret` of [fn, fn + fn_size), leaving the first
// `entry_bytes` (the entry patch) alone.  False + why when any exit cannot be
// caught that way: then the caller falls back to swapping the return address.
bool plan_exits(uint64_t fn, uint64_t fn_size, uint64_t entry_bytes, decoded *body, std::vector<exit_plan> *out,
                std::string *why)
{
    uint64_t stopped;
    if (!disassemble(fn, fn + fn_size, body, &stopped)) {
        *why = "bytes at " + hex(stopped) + " (+" + hex(stopped - fn) + ") do not decode";
        return false;
    }
    const std::vector<cs_insn *> &in = body->insns;
    for (size_t i = 0; i < in.size(); ++i) {
        const cs_insn *x = in[i];
        uint64_t t;
        if (x->id == X86_INS_JMP || x->id == X86_INS_LJMP) {
            // A jump out of the function is a tail call, an exit no ret sees;
            // an indirect one may be too.
            if (!is_relative_branch(x, &t)) {
                *why = "indirect jump '" + std::string(x->op_str) + "' at " + hex(x->address) + " may leave the function";
                return false;
            }
            if (t < fn || t >= fn + fn_size) {
                *why = "tail call (jmp " + hex(t) + ") at " + hex(x->address) + " leaves without a ret";
                return false;
            }
            continue;
        }
        if (x->id != X86_INS_RET)
            continue;
        // The latest run of whole instructions before (and with) the ret that
        // covers the 5-byte jump: straight-line code only.
        uint64_t end = x->address + x->size;
        size_t k = i;
        while (end - in[k]->address < 5) {
            if (k == 0 || in[k - 1]->address + in[k - 1]->size != in[k]->address) {
                *why = "only " + std::to_string(end - in[k]->address) + " bytes before the ret at " + hex(x->address);
                return false;
            }
            --k;
            const cs_insn *y = in[k];
            uint64_t tt;
            if (is_relative_branch(y, &tt) || ends_flow(y) || y->id == X86_INS_CALL ||
                y->id == X86_INS_SYSCALL) {
                *why = "control flow ('" + std::string(y->mnemonic) + "' at " + hex(y->address) +
                       ") within 5 bytes of the ret at " + hex(x->address);
                return false;
            }
        }
        exit_plan p;
        p.from = in[k]->address;
        p.ret_end = end;
        for (size_t j = k; j <= i; ++j)
            p.insns.push_back(in[j]);
        if (p.from < fn + entry_bytes) {
            *why = "the ret at " + hex(x->address) + " is within the entry's patched bytes";
            return false;
        }
        if (!out->empty() && out->back().ret_end > p.from) {
            *why = "two rets within 5 bytes (" + hex(out->back().ret_end - 1) + ", " + hex(x->address) + ")";
            return false;
        }
        if (branch_into(fn, fn + fn_size, p.from, p.ret_end, why))
            return false;
        out->push_back(p);
    }
    if (out->empty()) {
        *why = "no ret instruction";
        return false;
    }
    return true;
}

} // namespace

namespace {

// Decodes whole instructions from fn until the 5 bytes of the jump are
// covered (*covered), checking that nothing branches into them.
bool decode_entry(uint64_t fn, uint64_t fn_size, decoded *d, uint64_t *covered, std::string *why)
{
    const uint8_t *code = (const uint8_t *)fn;
    size_t avail = fn_size ? fn_size : 32;
    uint64_t addr = fn;
    *covered = 0;
    while (*covered < 5) {
        if (!avail) {
            *why = "function too short: " + std::to_string(fn_size) + " bytes, the jump needs 5";
            return false;
        }
        cs_insn *in = cs_malloc(g_cs);
        if (!cs_disasm_iter(g_cs, &code, &avail, &addr, in)) {
            cs_free(in, 1);
            *why = "Capstone cannot decode the instruction at +" + std::to_string(*covered);
            return false;
        }
        d->insns.push_back(in);
        *covered += in->size;
        if (*covered < 5 && ends_flow(in)) {
            *why = "function too short: control leaves ('" + std::string(in->mnemonic) + "') after " +
                   std::to_string(*covered) + " bytes, the jump needs 5";
            return false;
        }
    }
    if (!fn_size) {
        *why = "symbol has no size: cannot check for branches into the patched bytes";
        return false;
    }
    return !branch_into(fn, fn + fn_size, fn, fn + *covered, why);
}

const size_t k_tramp_reserve = 1024;

// Returns: at every ret if possible (the stack is never touched), else by
// swapping the return address for a return trampoline.  The exit jumps to
// make live go to *exit_jumps as (patched address, trampoline).
bool catch_returns(site *s, uint64_t fn, uint64_t fn_size, uint64_t covered,
                   std::vector<std::pair<uint64_t, uint64_t>> *exit_jumps, std::string *why)
{
    decoded body;
    std::vector<exit_plan> exits;
    std::string exit_why;
    if (plan_exits(fn, fn_size, covered, &body, &exits, &exit_why)) {
        for (const exit_plan &x : exits) {
            uint8_t *xm = alloc_near(x.from, k_tramp_reserve);
            if (!xm) {
                *why = "no memory for an exit trampoline";
                return false;
            }
            emitter r((uint64_t)xm);
            for (size_t j = 0; j + 1 < x.insns.size(); ++j)
                if (!relocate(r, x.insns[j], x.from, x.ret_end, why))
                    return false;
            // Now %rsp points at the return address, as at the entry.
            emit_hook(r, FRAME_CALL, (uint64_t)ltp_exit_dispatch, s);
            r.raw(x.insns.back()->bytes, x.insns.back()->size); // the ret itself
            if (!install(r, xm, k_tramp_reserve, why))
                return false;
            exit_jumps->push_back({x.from, (uint64_t)xm});
        }
        s->exits = (uint32_t)exits.size();
        s->exit_note = "return caught at " + std::to_string(exits.size()) + " ret instruction" +
                       (exits.size() == 1 ? "" : "s");
        return true;
    }
    s->exit_note = "return caught by swapping the return address (" + exit_why +
                   "): stacks recorded inside the function stop at it";
    uint8_t *rmem = alloc_near(fn, k_tramp_reserve);
    if (!rmem) {
        *why = "no memory for the return trampoline";
        return false;
    }
    emitter r((uint64_t)rmem);
    r.b({0x6a, 0x00}); // push $0: becomes the real return address
    emit_hook(r, FRAME_CALL, (uint64_t)ltp_return_dispatch, s);
    r.byte(0xc3); // ret
    if (!install(r, rmem, k_tramp_reserve, why))
        return false;
    s->ret_tramp = (uint64_t)rmem;
    return true;
}

} // namespace

bool patch_function(site *s, uint64_t fn, uint64_t fn_size, std::string *why)
{
    if (!g_ready && !engine_init(why))
        return false;
    decoded d;
    uint64_t covered;
    if (!decode_entry(fn, fn_size, &d, &covered, why))
        return false;
    uint8_t *mem = alloc_near(fn, k_tramp_reserve);
    if (!mem) {
        *why = "no free memory within rel32 reach of the function for a trampoline";
        return false;
    }
    emitter e((uint64_t)mem);
    emit_hook(e, FRAME_CALL, (uint64_t)ltp_entry_dispatch, s);
    for (cs_insn *in : d.insns)
        if (!relocate(e, in, fn, fn + covered, why))
            return false; // (the reserved bytes stay unused)
    e.jmp_abs(fn + covered);
    if (!install(e, mem, k_tramp_reserve, why))
        return false;
    s->addr = fn;
    s->patched = covered;
    s->resume = fn + covered;
    s->tramp = (uint64_t)mem;
    std::vector<std::pair<uint64_t, uint64_t>> exit_jumps; // (patched address, trampoline)
    if (s->on_return && !catch_returns(s, fn, fn_size, covered, &exit_jumps, why))
        return false;
    // Everything the jumps lead to is in place: now make them live, the
    // exits first (an exit reached without its entry is ignored).
    for (const auto &j : exit_jumps)
        if (!write_jump(j.first, j.second, why))
            return false;
    return write_jump(fn, (uint64_t)mem, why);
}

namespace {

// The whole instructions after the syscall (which ends at `end`) that make
// up the 5 bytes of the second jump; they end at *after_end.
bool straight_after(const decoded &all, uint64_t end, std::vector<const cs_insn *> *after, uint64_t *after_end,
                    std::string *why)
{
    *after_end = end;
    for (const cs_insn *in : all.insns) {
        if (in->address < end)
            continue;
        if (*after_end - end >= 5)
            break;
        if (in->address != *after_end)
            break;
        if (ends_flow(in) || in->id == X86_INS_CALL || in->id == X86_INS_SYSCALL) {
            *why = "'" + std::string(in->mnemonic) + "' within 5 bytes after the syscall";
            return false;
        }
        after->push_back(in);
        *after_end += in->size;
    }
    if (*after_end - end < 5) {
        *why = "fewer than 5 bytes of straight-line code after the syscall";
        return false;
    }
    return true;
}

// No branch of the function may land in (from, after_end), and no jump
// table may hide one.
bool no_branch_into_split(const decoded &all, uint64_t from, uint64_t after_end, std::string *why)
{
    for (const cs_insn *in : all.insns) {
        uint64_t t;
        // Jump tables are invisible to the branch scan; a tail call through
        // the GOT (jmp *x(%rip)) is not one.
        if (in->id == X86_INS_JMP && !is_relative_branch(in, &t) &&
            !(in->detail->x86.op_count == 1 && in->detail->x86.operands[0].type == X86_OP_MEM &&
              in->detail->x86.operands[0].mem.base == X86_REG_RIP)) {
            *why = "the function has an indirect jump (" + std::string(in->op_str) + " at " + hex(in->address) + ")";
            return false;
        }
        if (is_relative_branch(in, &t) && t > from && t < after_end) {
            *why = "the " + std::string(in->mnemonic) + " at " + hex(in->address) + " jumps to " + hex(t) +
                   ", between the probe's first byte and the end of the instructions after the syscall";
            return false;
        }
    }
    return true;
}

// The preferred way to probe a syscall site: leave the syscall instruction in
// the library's own code.  One jump (over `from`) leads to a trampoline that
// runs the moved instructions up to the syscall, the before-hook, and jumps
// back to the syscall; a second jump, over the whole instructions right after
// it, leads to the after-hook and those instructions.  A thread blocked in
// the kernel then sits at the library's own address, whose CFI every unwinder
// knows (a debugger's backtrace, glibc's cancellation unwinding).  Refused
// (false, *why says why; the caller then runs the syscall inside one
// trampoline) unless the function decodes wholly, has no indirect jump, and
// no branch lands anywhere in (from, after-instructions end).
bool try_split_syscall(site *s, uint64_t fn_lo, uint64_t fn_hi, uint64_t from, uint64_t covered, uint64_t syscall_at,
                       const decoded &before, std::string *why)
{
    uint64_t end = syscall_at + 2;
    // Sites come in address order and a libc function often has several:
    // keep the last function's instructions (start-up only, never freed).
    static decoded *cache;
    static uint64_t cache_lo, cache_hi;
    static bool cache_whole;
    static uint64_t cache_stopped;
    if (!cache || cache_lo != fn_lo || cache_hi != fn_hi) {
        delete cache;
        cache = new decoded();
        cache_lo = fn_lo;
        cache_hi = fn_hi;
        cache_whole = disassemble(fn_lo, fn_hi, cache, &cache_stopped);
    }
    const decoded &all = *cache;
    if (!cache_whole) {
        *why = "the function does not decode wholly (" + hex(cache_stopped) + ")";
        return false;
    }
    std::vector<const cs_insn *> after;
    uint64_t after_end;
    if (!straight_after(all, end, &after, &after_end, why) || !no_branch_into_split(all, from, after_end, why))
        return false;
    const size_t RESERVE = 1024;
    uint8_t *mem = alloc_near(from, RESERVE), *amem = alloc_near(end, RESERVE);
    if (!mem || !amem) {
        *why = "no free memory within rel32 reach for the trampolines";
        return false;
    }
    emitter e((uint64_t)mem);
    for (const cs_insn *in : before.insns) {
        if (in->address == syscall_at)
            break;
        if (!relocate(e, in, from, from + covered, why))
            return false;
    }
    emit_hook(e, FRAME_SYSCALL, (uint64_t)ltp_syscall_before, s, end);
    e.jmp_abs(syscall_at); // the library's own syscall instruction
    emitter a((uint64_t)amem);
    emit_hook(a, FRAME_SYSCALL, (uint64_t)ltp_syscall_after, s, end);
    for (const cs_insn *in : after)
        if (!relocate(a, in, end, after_end, why))
            return false;
    a.jmp_abs(after_end);
    if (!install(e, mem, RESERVE, why) || !install(a, amem, RESERVE, why))
        return false;
    s->addr = from;
    s->patched = covered;
    s->resume = syscall_at;
    s->sys_resume = end;
    s->tramp = (uint64_t)mem;
    s->after_tramp = (uint64_t)amem;
    s->after_patched = after_end - end;
    // The after-site first: until the entry jump is live, nothing reaches it
    // but the original path, whose after-hook then finds no before-event.
    if (!write_jump(end, (uint64_t)amem, why))
        return false;
    if (!write_jump(from, (uint64_t)mem, why)) {
        s->split_broken = true; // the after-site is live: the site must stay allocated
        return false;
    }
    return true;
}

} // namespace

bool patch_syscall(site *s, uint64_t fn_lo, uint64_t fn_hi, uint64_t from, uint64_t syscall_at, std::string *why)
{
    if (!g_ready && !engine_init(why))
        return false;
    decoded d;
    uint64_t stopped;
    if (!disassemble(from, syscall_at + 2, &d, &stopped) || d.insns.back()->address != syscall_at ||
        d.insns.back()->id != X86_INS_SYSCALL) {
        *why = "the bytes from " + hex(from) + " do not decode to whole instructions ending in syscall";
        return false;
    }
    uint64_t end = syscall_at + 2;
    // Only the first whole instructions covering 5 bytes are overwritten; the
    // rest up to the syscall stay in place (a branch to them still runs the
    // original code, untraced).  Only instruction starts inside the overwritten
    // bytes can be hurt by a branch, so with a single overwritten instruction
    // (glibc's 5-byte `mov $202,%eax`) there is nothing to scan for.
    uint64_t covered = 0;
    size_t n_over = 0;
    while (covered < 5 && n_over < d.insns.size())
        covered += d.insns[n_over++]->size;
    if (covered < 5) {
        *why = "fewer than 5 bytes from the first moved instruction to the end of the syscall";
        return false;
    }
    if (n_over > 1) {
        if (branch_into(fn_lo, fn_hi, from, from + covered, why))
            return false;
        // The branch scan cannot see computed jumps (switch tables): refuse
        // functions that have an indirect jump that is not a tail call through memory.
        decoded all;
        uint64_t st;
        disassemble(fn_lo, fn_hi, &all, &st);
        for (cs_insn *in : all.insns)
            if (in->id == X86_INS_JMP && in->detail->x86.op_count == 1 &&
                (in->detail->x86.operands[0].type == X86_OP_REG ||
                 (in->detail->x86.operands[0].type == X86_OP_MEM && in->detail->x86.operands[0].mem.base != X86_REG_RIP))) {
                *why = "the function has an indirect jump (" + std::string(in->op_str) + " at " + hex(in->address) +
                       "): a jump table could target the patched bytes";
                return false;
            }
    }
    const size_t RESERVE = 1024;
    if (from + covered > syscall_at)
        s->split_note = "the patched bytes reach the syscall";
    else if (try_split_syscall(s, fn_lo, fn_hi, from, covered, syscall_at, d, &s->split_note))
        return true;
    if (s->split_broken) {
        *why = s->split_note;
        return false;
    }
    uint8_t *mem = alloc_near(from, RESERVE);
    if (!mem) {
        *why = "no free memory within rel32 reach for a trampoline";
        return false;
    }
    emitter e((uint64_t)mem);
    for (cs_insn *in : d.insns) {
        if (in->address == syscall_at) {
            emit_hook(e, FRAME_SYSCALL, (uint64_t)ltp_syscall_before, s, end);
            e.b({0x0f, 0x05}); // the real syscall, with the program's own registers and stack
            emit_hook(e, FRAME_SYSCALL, (uint64_t)ltp_syscall_after, s, end);
        } else if (!relocate(e, in, from, from + covered, why)) {
            return false;
        }
    }
    e.jmp_abs(end);
    if (!install(e, mem, RESERVE, why))
        return false;
    s->addr = from;
    s->patched = covered;
    s->resume = end;
    s->sys_resume = end;
    s->tramp = (uint64_t)mem;
    return write_jump(from, (uint64_t)mem, why);
}

} // namespace ltp
