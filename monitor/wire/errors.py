"""The one error that bad input may raise."""


class InvalidMessage(ValueError):
    """Raised for any input that breaks the wire contract.

    The worker catches exactly this and nothing else to route a message to `dead-letters`, so
    every decoder must turn its own failures into it. `reason` names the field, the value and
    the rule that was broken, for a person reading the dead letter; `kind` is one of a few
    fixed words (`not_json`, `not_object`, `missing_field`, `out_of_bounds`, `timestamp`,
    `invalid_field`) that metrics may use as a label without exploding its cardinality.
    """

    def __init__(self, reason: str, kind: str = "invalid_field") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
