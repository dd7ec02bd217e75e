/* cli_stream.c - see cli_stream.h: one default and one handler per shared option. */
#include "cli_stream.h"

#include "cli.h"

void cli_stream_init(cli_stream *s)
{
    *s = (cli_stream){ .jobs = cli_jobs_default() };
    cli_shard_default(&s->shard_i, &s->shard_n);
}

int cli_stream_opt(cli_stream *s, int c, const char *arg)
{
    switch (c) {
    case 'o': s->output = arg; break;
    case CLI_O_TEXT_FIELD: s->text_field = arg; break;
    case 'j':
        if (cli_parse_jobs(arg, &s->jobs)) return CLI_STREAM_BAD;
        break;
    case CLI_O_SHARD:
        if (cli_parse_shard(arg, &s->shard_i, &s->shard_n)) return CLI_STREAM_BAD;
        break;
    case CLI_O_STRICT: s->strict = 1; s->skip_bad = 0; break;
    case CLI_O_SKIP_BAD: s->strict = 0; s->skip_bad = 1; break;
    case CLI_O_STATS: s->stats_path = arg; break;
    case CLI_O_PROGRESS: s->progress = 1; break;
    case CLI_O_FORCE: s->force = 1; break;
    default: return c;
    }
    return CLI_STREAM_TAKEN;
}

int cli_stream_getopt(cli_stream *s, int argc, char **argv, const char *shortopts,
                      const struct option *longopts)
{
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int r = cli_stream_opt(s, c, optarg);
        if (r != CLI_STREAM_TAKEN) return r;
    }
    return -1;
}
