//! peixun web app.
