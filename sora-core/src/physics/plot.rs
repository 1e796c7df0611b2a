//! Draws a track with its fit and flagged frames (wip).
