//! Scalar expression evaluation.
