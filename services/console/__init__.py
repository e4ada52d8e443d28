"""The two consoles of the on-call: the `drwave` client commands (cli/) and the web console (web/)."""
