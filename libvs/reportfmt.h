#ifndef VS_REPORTFMT_H
#define VS_REPORTFMT_H

#include <jansson.h>

#include "vs.h"

/*
 * vs-report's outputs besides JSON, from a report object of libvs/report.
 *
 * CSV (RFC 4180, a header line first):
 *   retention   percent,position_seconds,viewers_percent
 *   alerts      severity,metric,scope,value,threshold,message
 *   the others  section,name,value — every figure of the report: the
 *               engagement and qoe figures, the startup histogram, the
 *               quality mix, devices, browsers and os (shares), the top
 *               videos' figures (section "video:SLUG"), the figures over
 *               time (section "over_time:START")
 * Text cells that a spreadsheet would take for a formula (= + - @) are
 * prefixed with an apostrophe.
 *
 * HTML: one self-contained page (inline CSS and SVG, no script, no
 * external asset): the figures as tiles, a retention curve per video,
 * the startup-time distribution, rebuffering over time, the quality mix,
 * the audience, the top videos, the alerts; whatever the report holds.
 *
 * Both return 0, or VS_ERR when writing to f failed.
 */
int vs_reportfmt_write_csv(const json_t *report, FILE *f);
int vs_reportfmt_write_html(const json_t *report, FILE *f);

#endif
