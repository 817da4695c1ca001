"""Errors that carry what the user must change, not a traceback."""


class StartupError(Exception):
    """Start-up cannot go on: names the setting at fault and what to do next."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        self.message = message
        super().__init__(f"{setting}: {message}")

    def __str__(self) -> str:
        env = "PBX_BRIDGE_" + self.setting.upper()
        return f"setting {self.setting} ({env}): {self.message}"
