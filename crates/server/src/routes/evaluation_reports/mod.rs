//! The round's evaluation report (评估报告, R-EVA-2): the document the centre prints, stamps and
//! sends to the bureau (.docx), the same data as .xlsx, and a chart page (server-rendered SVG,
//! no JavaScript). The renderers are pure functions over [`data::ReportData`].

pub mod chart;
pub mod data;
pub mod docx;
pub mod xlsx;
