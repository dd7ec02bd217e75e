/* plot.c - the loss curve of a run as a self-contained SVG (no dependency:
 * axes, ticks, a polyline per series, a legend). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/outfile.h"
#include "common/strbuf.h"
#include "train.h"

#define W 800
#define H 480
#define ML 70   /* margins: left, right, top, bottom */
#define MR 20
#define MT 40
#define MB 50

/* A "nice" tick step (1, 2 or 5 times a power of ten) for a span. */
static double nice_step(double span, int ticks)
{
    double raw = span / ticks, p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void xml_text(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') sb_adds(sb, "&lt;");
        else if (*s == '>') sb_adds(sb, "&gt;");
        else if (*s == '&') sb_adds(sb, "&amp;");
        else sb_addc(sb, *s);
    }
}

int qplot_loss_svg(const char *path, const long *steps, const float *loss, size_t n,
                   const long *vsteps, const float *vloss, size_t nv, double ref,
                   const char *ref_label, const char *title, char *err, size_t errlen)
{
    double x0 = 0, x1 = 1, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (steps[i] > x1) x1 = (double)steps[i];
        if (isfinite(loss[i])) { y0 = fmin(y0, loss[i]); y1 = fmax(y1, loss[i]); }
    }
    for (size_t i = 0; i < nv; i++) {
        if (vsteps[i] > x1) x1 = (double)vsteps[i];
        if (isfinite(vloss[i])) { y0 = fmin(y0, vloss[i]); y1 = fmax(y1, vloss[i]); }
    }
    if (isfinite(ref)) { y0 = fmin(y0, ref); y1 = fmax(y1, ref); }
    if (!isfinite(y0)) { y0 = 0; y1 = 1; }
    if (y1 - y0 < 1e-6) { y0 -= 0.5; y1 += 0.5; }
    double ys = nice_step(y1 - y0, 6), xs = nice_step(x1 - x0, 8);
    y0 = floor(y0 / ys) * ys;
    y1 = ceil(y1 / ys) * ys;
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(x) (ML + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (MT + (y1 - (y)) / (y1 - y0) * ph)
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    sb_addf(&sb, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    sb_addf(&sb, "<text x=\"%d\" y=\"24\" font-size=\"15\">", ML);
    xml_text(&sb, title);
    sb_adds(&sb, "</text>\n");
    for (double y = y0; y <= y1 + ys * 1e-6; y += ys) {
        sb_addf(&sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                     "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML, W - MR, PY(y), PY(y), ML - 6, PY(y) + 4, round(y / ys) * ys);
    }
    for (double x = 0; x <= x1 + xs * 1e-6; x += xs)
        sb_addf(&sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
                     "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                PX(x), PX(x), MT, H - MB, PX(x), H - MB + 16, x);
    sb_addf(&sb, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n",
            ML, MT, pw, ph);
    sb_addf(&sb, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">step</text>\n", ML + pw / 2, H - 12);
    sb_addf(&sb, "<text transform=\"translate(18 %.0f) rotate(-90)\" text-anchor=\"middle\">"
                 "loss (nats/token)</text>\n", MT + ph / 2);
    if (n) {
        sb_adds(&sb, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.2\" points=\"");
        for (size_t i = 0; i < n; i++)
            if (isfinite(loss[i])) sb_addf(&sb, "%.1f,%.1f ", PX((double)steps[i]), PY(loss[i]));
        sb_adds(&sb, "\"/>\n");
    }
    if (nv) {
        sb_adds(&sb, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
        for (size_t i = 0; i < nv; i++)
            if (isfinite(vloss[i])) sb_addf(&sb, "%.1f,%.1f ", PX((double)vsteps[i]), PY(vloss[i]));
        sb_adds(&sb, "\"/>\n");
        for (size_t i = 0; i < nv; i++)
            if (isfinite(vloss[i]))
                sb_addf(&sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>\n",
                        PX((double)vsteps[i]), PY(vloss[i]));
    }
    if (isfinite(ref))
        sb_addf(&sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
                     "stroke-dasharray=\"6 4\"/>\n", ML, W - MR, PY(ref), PY(ref));
    /* legend */
    int ly = MT + 14, lx = W - MR - 230;
    sb_addf(&sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#1f77b4\" stroke-width=\"2\"/>"
                 "<text x=\"%d\" y=\"%d\">training loss</text>\n", lx, lx + 24, ly, ly, lx + 30, ly + 4);
    if (nv) {
        ly += 18;
        sb_addf(&sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#d62728\" stroke-width=\"2\"/>"
                     "<text x=\"%d\" y=\"%d\">validation loss</text>\n", lx, lx + 24, ly, ly, lx + 30, ly + 4);
    }
    if (isfinite(ref)) {
        ly += 18;
        sb_addf(&sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#777\" stroke-dasharray=\"6 4\"/>"
                     "<text x=\"%d\" y=\"%d\">", lx, lx + 24, ly, ly, lx + 30, ly + 4);
        xml_text(&sb, ref_label ? ref_label : "reference");
        sb_addf(&sb, " (%.3f)</text>\n", ref);
    }
    sb_adds(&sb, "</svg>\n");
#undef PX
#undef PY
    int rc = qout_write_file(path, sb.buf, sb.len, err, errlen);
    sb_free(&sb);
    return rc;
}
