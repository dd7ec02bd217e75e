/* commands.h - every subcommand's entry point, one cmd_<name>() each (git's
 * builtin.h). Each is defined in its stage's cmd_<name>.c, parses its own
 * options (argv[0] is the command name), and returns the process exit code
 * (cli.h: 0 ok, 1 bad input, 2 bad usage). The table lives in quern.c. */
#ifndef QUERN_COMMANDS_H
#define QUERN_COMMANDS_H

int cmd_cat(int argc, char **argv);
int cmd_count(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_dedup(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bpe(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_budget(int argc, char **argv);
int cmd_mix(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);

#endif
