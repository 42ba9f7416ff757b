/* gen_corpus.c: writes the seeds of the binary corpora (wire frames, V2 histograms, small stats
 * JSON) that make_corpus.sh commits under tests/fuzz/corpus/. Not a fuzzer: run it once when
 * the formats change.   gen_corpus CORPUS_DIR SCENARIO.yaml */
#include "common/hist.h"
#include "common/stats_json.h"
#include "common/wire.h"
#include "coordinator/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *s_dir;

static void s_write (const char *corpus, const char *name, const void *bytes, size_t len) {
    char path[512];
    snprintf (path, sizeof path, "%s/%s/%s", s_dir, corpus, name);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (bytes, 1, len, f) != len || fclose (f) != 0) {
        fprintf (stderr, "gen_corpus: cannot write %s\n", path);
        exit (1);
    }
}

static fb_hist_t *s_hist (int64_t lowest, int64_t highest, int sigfigs, int kind) {
    fb_err_t err;
    fb_hist_t *h = fb_hist_new (lowest, highest, sigfigs, &err);
    if (!h) {
        fprintf (stderr, "gen_corpus: %s\n", err.msg);
        exit (1);
    }
    if (kind == 1)
        fb_hist_record (h, 1000);
    else if (kind == 2)
        for (int64_t v = 1; v < highest / 4; v = v * 3 + 7)
            fb_hist_record_n (h, v, v % 5 + 1);
    else if (kind == 3) {
        fb_hist_record_n (h, lowest, 1000000);
        fb_hist_record (h, highest);
        fb_hist_record_corrected (h, 50000000, 1000000);
    }
    return h;
}

static void s_write_hist (const char *name, const fb_hist_t *h, bool raw_too) {
    uint8_t *buf;
    size_t len;
    fb_err_t err;
    if (fb_hist_encode (h, &buf, &len, &err) != 0) {
        fprintf (stderr, "gen_corpus: %s\n", err.msg);
        exit (1);
    }
    s_write ("hist", name, buf, len);
    if (raw_too) { /* the uncompressed V2 form fb_hist_decode also reads */
        uLongf raw_len = 1 << 20;
        uint8_t *raw = malloc (raw_len);
        if (!raw || uncompress (raw, &raw_len, buf + 8, (uLong)(len - 8)) != Z_OK)
            exit (1);
        char raw_name[128];
        snprintf (raw_name, sizeof raw_name, "%s-raw", name);
        s_write ("hist", raw_name, raw, raw_len);
        free (raw);
    }
    free (buf);
}

static void s_write_msg (const char *name, const fb_msg_t *msg) {
    uint8_t *buf;
    size_t len;
    fb_err_t err;
    if (fb_wire_pack (msg, &buf, &len, &err) != 0) {
        fprintf (stderr, "gen_corpus: %s: %s\n", name, err.msg);
        exit (1);
    }
    s_write ("wire", name, buf, len);
    free (buf);
}

static void s_gen_hists (void) {
    fb_hist_t *h;
    s_write_hist ("empty-default", h = s_hist (FB_HIST_LOWEST, FB_HIST_HIGHEST, 3, 0), true);
    fb_hist_destroy (&h);
    s_write_hist ("one-value", h = s_hist (FB_HIST_LOWEST, FB_HIST_HIGHEST, 3, 1), true);
    fb_hist_destroy (&h);
    s_write_hist ("spread", h = s_hist (FB_HIST_LOWEST, FB_HIST_HIGHEST, 3, 2), true);
    fb_hist_destroy (&h);
    s_write_hist ("spread-sig1", h = s_hist (1, 1000000, 1, 2), false);
    fb_hist_destroy (&h);
    s_write_hist ("spread-sig5", h = s_hist (1, 10000000, 5, 2), false);
    fb_hist_destroy (&h);
    s_write_hist ("lowest-1000", h = s_hist (1000, 3600000000000LL, 2, 3), false);
    fb_hist_destroy (&h);
    s_write_hist ("top-range", h = s_hist (1, INT64_MAX, 2, 3), false);
    fb_hist_destroy (&h);
}

static fb_msg_t *s_msg (fb_msg_type_t type) {
    fb_msg_t *msg = fb_wire_msg_new (type);
    if (!msg)
        exit (1);
    return msg;
}

static void s_gen_report (void) {
    fb_msg_t *msg = s_msg (FB_MSG_REPORT);
    fb_report_t *r = &msg->u.report;
    snprintf (r->run_id, sizeof r->run_id, "20261123-082159-quick-bfc0");
    r->seq = 7;
    r->workload = 1;
    r->phase = FB_PHASE_MEASURE;
    r->start_ns = 5000000000;
    r->end_ns = 6000000000;
    r->wall_start_ns = 1763886119000000000;
    const char *names[] = {"latency", "service"};
    for (int i = 0; i < 2; i++) {
        fb_hist_t *h = s_hist (FB_HIST_LOWEST, FB_HIST_HIGHEST, 3, i + 1);
        fb_err_t err;
        snprintf (r->metrics[i].name, sizeof r->metrics[i].name, "%s", names[i]);
        if (fb_hist_encode (h, &r->metrics[i].hist, &r->metrics[i].hist_len, &err) != 0)
            exit (1);
        fb_hist_destroy (&h);
    }
    r->n_metrics = 2;
    const char *counters[] = {"ops", "errors", "rss", "drops"};
    for (int i = 0; i < 4; i++) {
        snprintf (r->counters[i].name, sizeof r->counters[i].name, "%s", counters[i]);
        r->counters[i].value = i == 2 ? 273309696 : 1000 * i;
    }
    r->n_counters = 4;
    s_write_msg ("report", msg);
    fb_wire_msg_destroy (&msg);
}

static void s_gen_wire (const char *scenario_path) {
    fb_msg_t *msg = s_msg (FB_MSG_HELLO);
    snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "pi4-lab-3");
    snprintf (msg->u.hello.labels[0].key, 32, "arch");
    snprintf (msg->u.hello.labels[0].value, 96, "aarch64");
    snprintf (msg->u.hello.labels[1].key, 32, "rack");
    snprintf (msg->u.hello.labels[1].value, 96, "b2");
    msg->u.hello.n_labels = 2;
    fb_fingerprint_read (&msg->u.hello.fp);
    s_write_msg ("hello", msg);
    fb_wire_msg_destroy (&msg);

    fb_err_t err;
    fb_scenario_t *scenario = fb_scenario_load (scenario_path, &err);
    if (!scenario) {
        fprintf (stderr, "gen_corpus: %s\n", err.msg);
        exit (1);
    }
    msg = s_msg (FB_MSG_PLAN);
    fb_scenario_to_plan (scenario, "20261123-082159-quick-bfc0", &msg->u.plan);
    fb_scenario_destroy (&scenario);
    s_write_msg ("plan", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_READY);
    snprintf (msg->u.ready.run_id, 64, "20261123-082159-quick-bfc0");
    s_write_msg ("ready", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_START);
    snprintf (msg->u.start.run_id, 64, "20261123-082159-quick-bfc0");
    msg->u.start.start_ns = 123456789012;
    msg->u.start.coord_start_ns = 123456000000;
    msg->u.start.offset_ns = -789012;
    msg->u.start.rtt_ns = 150000;
    s_write_msg ("start", msg);
    fb_wire_msg_destroy (&msg);

    s_gen_report ();

    msg = s_msg (FB_MSG_ACK);
    snprintf (msg->u.ack.run_id, 64, "20261123-082159-quick-bfc0");
    msg->u.ack.seq = 7;
    s_write_msg ("ack", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_HEARTBEAT);
    msg->u.heartbeat.sent_ns = 123456789012;
    msg->u.heartbeat.echo_ns = 123456000000;
    msg->u.heartbeat.echo_recv_ns = 123456700000;
    msg->u.heartbeat.state = 3;
    s_write_msg ("heartbeat", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_DONE);
    snprintf (msg->u.done.run_id, 64, "20261123-082159-quick-bfc0");
    msg->u.done.last_seq = 12;
    msg->u.done.started_ns = 123456789012;
    msg->u.done.aborted = 1;
    snprintf (msg->u.done.reason, 128, "coordinator lost for 5 s");
    s_write_msg ("done", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_ABORT);
    snprintf (msg->u.abort.run_id, 64, "20261123-082159-quick-bfc0");
    snprintf (msg->u.abort.reason, 256, "interrupted (SIGINT)");
    s_write_msg ("abort", msg);
    fb_wire_msg_destroy (&msg);

    msg = s_msg (FB_MSG_ERROR);
    msg->u.error.code = FB_EINPUT;
    snprintf (msg->u.error.message, 256, "protocol version 2, this build speaks 1");
    s_write_msg ("error", msg);
    fb_wire_msg_destroy (&msg);
}

/* Small stats objects: the run.json ones are large, these mutate quickly. */
static void s_gen_stats (void) {
    fb_stats_t stats;
    fb_stats_init (&stats);
    fb_err_t err;
    fb_hist_t *latency = fb_hist_new_default (&err);
    fb_hist_t *service = fb_hist_new_default (&err);
    if (!latency || !service)
        exit (1);
    fb_hist_record_n (latency, 250000, 3);
    fb_hist_record (latency, 4000000);
    fb_hist_record (service, 1200);
    if (fb_hist_compact_merge_hist (fb_stats_metric (&stats, "latency", &err), latency, &err) ||
        fb_hist_compact_merge_hist (fb_stats_metric (&stats, "service", &err), service, &err))
        exit (1);
    fb_hist_destroy (&latency);
    fb_hist_destroy (&service);
    fb_stats_add_counter (&stats, "ops", FB_COUNTER_SUM, 4, &err);
    fb_stats_add_counter (&stats, "errors", FB_COUNTER_SUM, 0, &err);
    fb_stats_add_counter (&stats, "rss", FB_COUNTER_MAX, 273309696, &err);
    stats.measured_ns = 4000000000;
    json_t *json = fb_stats_json_encode (&stats);
    char *text = json ? json_dumps (json, JSON_COMPACT) : NULL;
    if (!text)
        exit (1);
    s_write ("stats_json", "small-stats.json", text, strlen (text));
    free (text);
    /* The same stats as the one workload of a minimal run.json. */
    json_t *run = json_pack ("{s:{s:s},s:[{s:s,s:O}]}", "scenario", "name", "quick", "workloads",
                             "name", "bus-open", "fleet", json);
    text = run ? json_dumps (run, JSON_COMPACT) : NULL;
    if (!text)
        exit (1);
    s_write ("stats_json", "small-run.json", text, strlen (text));
    free (text);
    json_decref (run);
    json_decref (json);
    fb_stats_clear (&stats);
}

int main (int argc, char **argv) {
    if (argc != 3) {
        fprintf (stderr, "usage: gen_corpus CORPUS_DIR SCENARIO.yaml\n");
        return 2;
    }
    s_dir = argv[1];
    s_gen_hists ();
    s_gen_wire (argv[2]);
    s_gen_stats ();
    return 0;
}
