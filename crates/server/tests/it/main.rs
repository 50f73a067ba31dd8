//! Integration tests of the web app (one binary).
