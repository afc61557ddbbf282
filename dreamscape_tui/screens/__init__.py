"""The app's screens: the dashboard, review panels, file detail, help and the hint prompt."""
