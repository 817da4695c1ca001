"""The centre's report and answer-time statistics: pure figures over stored call rows."""
