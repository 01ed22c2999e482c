"""The sandbox: local emulators of every platform's API, for tests and the demo."""
