"""What the test suites share: CI's fail-never-skip rule, stores, waits, calls played through the
core, the API wired over a real store, and fakes of Asterisk's interfaces."""
