"""Browser tests: every page in Debian's Chromium (driven by the Python ``playwright`` package) against the real
server, each in every language, checked with axe-core, screenshotted, and failing on any console error or any
request to another host. The harness is tests/browser/harness.py; the fixtures are in tests/browser/conftest.py."""
