/* cmd_bpe.c - placeholder until the stage lands; replaced by its implementation. */
#include "../common/cli.h"
#include "../common/commands.h"

int cmd_bpe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    qerr("not implemented yet");
    return QEXIT_USAGE;
}
