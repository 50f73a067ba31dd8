//! The downloadable roster template (R-FIL-2): .xlsx with Chinese headers from
//! [`ROSTER_HEADERS`], the ID column formatted as text (so Excel keeps all 18 digits), drop-downs
//! for 证件类型 and 户籍/居住地, and a second sheet 填写说明 with the allowed values and rules;
//! and a .csv with a UTF-8 BOM (so Excel in China opens it as UTF-8).

use crate::roster::{ImportError, MAX_ROWS};
use peixun_domain::policy::Policy;
use peixun_domain::roster::{
    COL_ID_NUMBER, COL_ID_TYPE, COL_RESIDENCE, GROUP_SEPARATORS, RESIDENCE_OPTIONS, ROSTER_HEADERS,
    id_type_options,
};
use rust_xlsxwriter::{DataValidation, Format, Workbook, XlsxError};

/// The template's data sheet name.
pub const TEMPLATE_SHEET: &str = "花名册";
/// The instructions sheet name.
pub const INSTRUCTIONS_SHEET: &str = "填写说明";
/// Minimum age at the class start (SPEC.md §4; not in [`Policy`]).
const MIN_AGE: u32 = 16;

fn col_of(name: &str) -> u16 {
    ROSTER_HEADERS.iter().position(|h| *h == name).unwrap_or(0) as u16
}

fn template_error(e: XlsxError) -> ImportError {
    ImportError::new("IMPORT_TEMPLATE", format!("生成花名册模板失败：{e}"))
}

/// The .xlsx template, with the round's key target groups unknown (the instructions say to use
/// the round's published list).
pub fn roster_template_xlsx() -> Result<Vec<u8>, ImportError> {
    roster_template_xlsx_for(&[])
}

/// The .xlsx template listing `groups` (the round's 重点对象类别) in the instructions.
pub fn roster_template_xlsx_for(groups: &[String]) -> Result<Vec<u8>, ImportError> {
    build(groups).map_err(template_error)
}

fn build(groups: &[String]) -> Result<Vec<u8>, XlsxError> {
    let policy = Policy::haizhu_default();
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_background_color("#DDEBF7");
    let text = Format::new().set_num_format("@");
    let last_row = MAX_ROWS as u32;

    let sheet = book.add_worksheet();
    sheet.set_name(TEMPLATE_SHEET)?;
    for (c, h) in ROSTER_HEADERS.iter().enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(0, c, *h, &header)?;
        sheet.set_column_width(c, if *h == COL_ID_NUMBER { 24 } else { 16 })?;
        // Every column is text: IDs keep all digits, phone numbers stay numbers-as-text.
        sheet.set_column_format(c, &text)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    let id_types = id_type_options();
    let id_col = col_of(COL_ID_TYPE);
    let dv = DataValidation::new()
        .allow_list_strings(&id_types)?
        .set_error_title("证件类型无效")?
        .set_error_message("请从下拉列表中选择证件类型")?;
    sheet.add_data_validation(1, id_col, last_row, id_col, &dv)?;
    let res_col = col_of(COL_RESIDENCE);
    let dv = DataValidation::new()
        .allow_list_strings(&RESIDENCE_OPTIONS)?
        .set_error_title("户籍/居住地无效")?
        .set_error_message("请选择“广东省内”或“广东省外”")?;
    sheet.add_data_validation(1, res_col, last_row, res_col, &dv)?;
    let num_col = col_of(COL_ID_NUMBER);
    let dv = DataValidation::new()
        .allow_any_value()
        .set_input_title("证件号码")?
        .set_input_message("请按证件原样填写，末位X用大写；本列为文本格式，请勿改为数字")?;
    sheet.add_data_validation(1, num_col, last_row, num_col, &dv)?;

    let info = book.add_worksheet();
    info.set_name(INSTRUCTIONS_SHEET)?;
    info.set_column_width(0, 18)?;
    info.set_column_width(1, 90)?;
    let seps: Vec<String> = GROUP_SEPARATORS.iter().map(|c| c.to_string()).collect();
    let groups_text = if groups.is_empty() {
        "以本批次公布的重点对象类别为准；不属于重点对象的留空".to_string()
    } else {
        format!("{}；不属于重点对象的留空", groups.join("、"))
    };
    let lines: Vec<(&str, String)> = vec![
        ("姓名", "2至30个字符，汉字、英文字母或间隔号“·”".into()),
        ("证件类型", id_types.join("、")),
        (
            "证件号码",
            "按证件原样填写；居民身份证18位，末位X大写；本列须为文本格式".into(),
        ),
        ("手机号码", "11位中国大陆手机号码".into()),
        ("户籍/居住地", RESIDENCE_OPTIONS.join("、")),
        (
            "重点对象类别",
            format!("{groups_text}；多个类别用“{}”分隔", seps.join("”或“")),
        ),
        (
            "人数",
            format!("每班培训人数不低于{}人", policy.min_class_size),
        ),
        (
            "年龄",
            format!("开班日期当日须年满{MIN_AGE}周岁；已达法定退休年龄的不享受培训补贴"),
        ),
        (
            "导入规则",
            "每行都会检查，有任何一行不符合要求时整份花名册都不会导入，系统会列出所有问题行；\
             空行自动跳过；同一人不能重复填写"
                .into(),
        ),
    ];
    info.write_string_with_format(0, 0, "栏目", &header)?;
    info.write_string_with_format(0, 1, "填写要求 / 可选值", &header)?;
    for (i, (k, v)) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        info.write_string(r, 0, *k)?;
        info.write_string(r, 1, v)?;
    }
    book.save_to_buffer()
}

/// The .csv template: the header row, UTF-8 with BOM, CRLF line ends.
pub fn roster_template_csv() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend_from_slice(ROSTER_HEADERS.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}
