//! peixun persistence.
