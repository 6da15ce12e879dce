"""Lab context for the organs CRS harms: what a lab result means beside the vital signs.

Labs arrive hours apart; they are context and organ-dysfunction criteria, not second-by-second
signals (docs/clinical-reference.md, "Labs"). Each module reads a patient's LabHistory
(monitor/labs.py) and the configuration, and returns plain values for the status and reasons:
- `ctcae`: CTCAE v5 grades of bilirubin, ALT, AST and platelets against the local limits;
- `inflammation`: CRP, ferritin and IL-6 since therapy — fold change, doubling time, and IL-6's
  expected rise after tocilizumab;
- `easix`: m-EASIX at therapy start, a risk context, never an alarm;
- `reasons`: the graded results an alert's reasons name.
"""
