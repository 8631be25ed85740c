/* The plugin of dlopen_deadlock: its constructor registers it with the program. */
void registry_add(const char *name);

__attribute__((noinline)) void plugin_register(void)
{
    registry_add("plugin");
}

__attribute__((constructor)) static void plugin_init(void)
{
    plugin_register();
}
