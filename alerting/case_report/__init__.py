"""Case reports: one patient's course on one page (PNG and PDF), for case review and for checking
a rule on retrospective data. `render_case_report(events, outputs, path_png, path_pdf)` is the
entry point for other commands (`crsmon validate` links its missed and false alerts to these);
`crsmon report PATIENT_ID --from FILE` runs the engine over a replay input first.

Plotting stays out of `monitor/`: the clinical core needs no matplotlib to run.
"""

from alerting.case_report.render import DrawnReport, render_case_report

__all__ = ["DrawnReport", "render_case_report"]
