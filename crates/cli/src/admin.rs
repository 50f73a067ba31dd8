//! Server and administration subcommands: `serve`, `migrate`, `user add`, `audit verify`,
//! `backup`, `restore`, `bench queue`, `keys rotate`, `seed` (in [`crate::seed`]).

use clap::{Args, Subcommand};
use peixun_domain::role::Role;
use peixun_store::{Actor, Store, accounts, audit};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// 启动网站与 API（首次启动自动建库、迁移）
    Serve(ServeArgs),
    /// 执行数据库迁移（多台服务器启动前执行一次）
    Migrate(DbArgs),
    /// 账号管理
    #[command(subcommand)]
    User(UserCommand),
    /// 审计日志
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 在线备份 SQLite 数据库到新文件（服务运行时亦可；PostgreSQL 请用 pg_dump）
    Backup(BackupArgs),
    /// 从 peixun backup 的备份恢复 SQLite 数据库：须先停止使用该数据库的服务；备份须通过完整性检查与审计链校验；
    /// 原数据库保留为同目录下带时间的副本（PostgreSQL 请用 pg_restore）
    Restore(RestoreArgs),
    /// 性能测试
    #[command(subcommand)]
    Bench(BenchCommand),
    /// 个人信息加密密钥（S14）
    #[command(subcommand)]
    Keys(KeysCommand),
    /// 在新建的空数据库中生成基准测试用的模拟数据（区、市、省规模），含演示账号（密码同 serve --demo）
    Seed(crate::seed::SeedArgs),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// 轮换数据密钥 data.key：生成新密钥（旧密钥暂存为 data.key.old），分批重新加密全部身份证件号码与上传文件，
    /// 完成后停用旧密钥并记入审计日志。须先停止服务；中断后再次运行即从中断处继续
    Rotate(DbArgs),
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 名额排队压测（R-FIL-6）：并发提交开班备案，报告每秒提交数。默认在临时 SQLite 文件上运行
    Queue(BenchQueueArgs),
    /// HTTP 压测：在已有数据库上启动服务，以演示账号测量用户常用的读取页面与最小接口（并列比较）
    Http(crate::bench_http::BenchHttpArgs),
}

#[derive(Args)]
pub struct BenchQueueArgs {
    /// 数据库地址（默认：临时目录中的新 SQLite 文件，结束后删除）。不读取 PEIXUN_DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
    /// 并发客户端数
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// 提交总数（每次提交一份完整的开班备案材料，材料在计时前准备）
    #[arg(long, default_value_t = 2000)]
    pub submissions: usize,
    /// 本批次名额（默认为提交总数与预置数之和的一半）
    #[arg(long)]
    pub quota: Option<u32>,
    /// 计时前预置的排队备案数（经排队的同一路径写入，不附备案材料，只占排队位置；用于在大批次上测量）
    #[arg(long, default_value_t = 0)]
    pub prefill: usize,
    /// 数据库中已有数据时仍然运行（会写入压测批次、机构和审计记录）
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct BackupArgs {
    /// 备份文件（不得已存在）
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// 备份文件（peixun backup 生成；不会被修改）
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Where the database is: `--database-url`, else `PEIXUN_DATABASE_URL`, else `<data-dir>/peixun.db`.
#[derive(Args, Clone)]
pub struct DbArgs {
    /// 数据库地址（sqlite:… 或 postgres://…）
    #[arg(long, env = "PEIXUN_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// 数据目录（默认 SQLite 数据库位于此处）
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// 上传文件存放位置：文件夹路径，或 s3://存储桶/前缀（需以 --features s3 构建；凭据取自 AWS_* 环境变量）；
    /// 默认为数据目录下的 files。多台服务器共用一个数据库时须共用同一位置
    #[arg(long, env = "PEIXUN_FILES")]
    pub files: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    /// 演示模式：空库时写入演示数据并打印演示账号
    #[arg(long)]
    pub demo: bool,
    /// 演示日期（仅限演示模式）：系统按北京时间的这一天运行，便于演示与培训全年流程，如 2027-01-18
    #[arg(long, requires = "demo", value_name = "YYYY-MM-DD")]
    pub today: Option<chrono::NaiveDate>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// 新增账号（密码从标准输入读取）
    Add(UserAddArgs),
}

#[derive(Args)]
pub struct UserAddArgs {
    #[arg(long)]
    pub username: String,
    /// 角色：centre_admin, centre_staff, bureau, city, institution_admin, institution_staff,
    /// auditor, sysadmin
    #[arg(long)]
    pub role: Role,
    /// 所属机构 id（仅机构角色）
    #[arg(long = "institution")]
    pub institution: Option<i64>,
    /// 显示名称（默认同用户名）
    #[arg(long)]
    pub display_name: Option<String>,
    /// 从标准输入读取密码（第一行）
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// 首次登录须修改密码
    #[arg(long)]
    pub must_change_password: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 校验审计日志哈希链：通过时退出码 0，发现篡改时退出码 1 并指出第一条异常记录
    Verify(DbArgs),
}

pub fn run(cmd: AdminCommand) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async move {
        match cmd {
            AdminCommand::Serve(a) => serve(a).await,
            AdminCommand::Migrate(db) => migrate(db).await,
            AdminCommand::User(UserCommand::Add(a)) => user_add(a).await,
            AdminCommand::Audit(AuditCommand::Verify(db)) => audit_verify(db).await,
            AdminCommand::Backup(a) => backup(a).await,
            AdminCommand::Restore(a) => restore(a).await,
            AdminCommand::Bench(BenchCommand::Queue(a)) => bench_queue(a).await,
            AdminCommand::Bench(BenchCommand::Http(a)) => crate::bench_http::run(a).await,
            AdminCommand::Keys(KeysCommand::Rotate(db)) => keys_rotate(db).await,
            AdminCommand::Seed(a) => crate::seed::run(a).await,
        }
    })
}

async fn open(db: &DbArgs) -> Result<Store, ExitCode> {
    let url = peixun_store::resolve_database_url(db.database_url.as_deref(), &db.data_dir);
    match Store::connect(&url).await {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("错误：无法打开数据库：{e}");
            Err(ExitCode::from(2))
        }
    }
}

async fn open_migrated(db: &DbArgs) -> Result<Store, ExitCode> {
    let store = open(db).await?;
    if let Err(e) = store.migrate().await {
        eprintln!("错误：数据库迁移失败：{e}");
        return Err(ExitCode::from(2));
    }
    Ok(store)
}

async fn serve(a: ServeArgs) -> ExitCode {
    let opts = peixun_server::ServeOptions {
        addr: a.addr,
        database_url: a.db.database_url,
        data_dir: a.db.data_dir,
        files: a.db.files,
        demo: a.demo,
        today: a.today,
    };
    match peixun_server::serve(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(db: DbArgs) -> ExitCode {
    match open_migrated(&db).await {
        Ok(_) => {
            println!("数据库迁移完成");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn read_password_line() -> std::io::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn user_add(a: UserAddArgs) -> ExitCode {
    let password = match read_password_line() {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            eprintln!("错误：标准输入中没有密码");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("错误：读取密码失败：{e}");
            return ExitCode::from(2);
        }
    };
    let store = match open_migrated(&a.db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let new = accounts::NewUser {
        username: a.username.clone(),
        display_name: a.display_name.unwrap_or_else(|| a.username.clone()),
        role: a.role,
        institution_id: a.institution,
        password,
        must_change_password: a.must_change_password,
    };
    match accounts::create_user(&store, &Actor::system("cli"), new, chrono::Utc::now()).await {
        Ok(u) => {
            println!(
                "已创建账号 {}（id {}，角色 {} {}）",
                u.username,
                u.id,
                u.role.code(),
                u.role.label_zh()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            match &e {
                peixun_store::StoreError::Validation { .. }
                | peixun_store::StoreError::Invalid { .. } => {
                    // Every problem, each with its field (R-VAL-1).
                    for p in e.problems() {
                        match &p.field {
                            Some(f) => eprintln!("错误（{f}）：{}", p.message),
                            None => eprintln!("错误：{}", p.message),
                        }
                    }
                }
                peixun_store::StoreError::Conflict { message, field, .. } => match field {
                    Some(f) => eprintln!("错误（{f}）：{message}"),
                    None => eprintln!("错误：{message}"),
                },
                other => eprintln!("错误：{other}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn audit_verify(db: DbArgs) -> ExitCode {
    // Read-only: never migrates (or creates) the database it checks.
    let url = peixun_store::resolve_database_url(db.database_url.as_deref(), &db.data_dir);
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        if !std::path::Path::new(path).exists() {
            eprintln!("错误：数据库文件不存在：{path}");
            return ExitCode::from(2);
        }
    }
    let store = match open(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match audit::verify(&store).await {
        Ok(Ok(report)) => {
            println!("审计日志校验通过：共 {} 条记录", report.rows_checked);
            check_audit_anchor(&store, &db.data_dir).await
        }
        Ok(Err(brk)) => {
            eprintln!(
                "审计日志校验失败：第一条异常记录 id {}：{}",
                brk.id, brk.reason
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误：读取审计日志失败：{e}");
            ExitCode::from(2)
        }
    }
}

/// S11: the anchored head of the chain (`<data_dir>/audit.anchor`) must still be in the log —
/// rows cut off the end of the log pass the hash chain but not this.
async fn check_audit_anchor(store: &peixun_store::Store, data_dir: &std::path::Path) -> ExitCode {
    use peixun_store::audit_anchor::{AnchorCheck, AnchorKey, check_anchor};
    let key = match AnchorKey::load(data_dir, false) {
        Ok(Some(k)) => k,
        Ok(None) => {
            println!("（未找到审计锚点密钥，未校验日志末尾是否被截断）");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("错误：审计锚点密钥：{e}");
            return ExitCode::from(2);
        }
    };
    match check_anchor(store, data_dir, &key).await {
        Ok(AnchorCheck::Holds(a)) => {
            println!(
                "审计锚点校验通过：锚定于 {}（id {}，{} 条）",
                a.at, a.last_id, a.rows
            );
            ExitCode::SUCCESS
        }
        Ok(AnchorCheck::Missing) => {
            println!("（尚无审计锚点文件，未校验日志末尾是否被截断）");
            ExitCode::SUCCESS
        }
        Ok(AnchorCheck::Broken { reason }) => {
            eprintln!("审计锚点校验失败：{reason}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误：读取审计锚点失败：{e}");
            ExitCode::from(2)
        }
    }
}

async fn backup(a: BackupArgs) -> ExitCode {
    let store = match open_migrated(&a.db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    // S11: anchor the head of the audit chain as the backup is taken.
    match peixun_store::audit_anchor::AnchorKey::load(&a.db.data_dir, true) {
        Ok(Some(key)) => {
            if let Err(e) = peixun_store::audit_anchor::write_anchor(
                &store,
                &a.db.data_dir,
                &key,
                chrono::Utc::now(),
            )
            .await
            {
                eprintln!("警告：审计锚点未写入：{e}");
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("警告：审计锚点密钥：{e}"),
    }
    match store.backup_to(&a.to).await {
        Ok(()) => {
            println!("已备份到 {}", a.to.display());
            println!(
                "注意：备份不含密钥（{dir}/data.key、{dir}/roster.key 或 PEIXUN_DATA_KEY、PEIXUN_ROSTER_KEY）\
                 和上传文件目录 {dir}/files/。没有 data.key 的备份无法读出身份证件号码和上传文件：\
                 请把密钥另行安全保存（不要与备份放在一起），见 docs/OPERATIONS.md",
                dir = a.db.data_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(peixun_store::StoreError::Validation { message, .. }) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误：备份失败：{e}");
            ExitCode::from(2)
        }
    }
}

/// `peixun keys rotate` (S14): see `peixun_store::at_rest::rotate_data_key`. On SQLite the
/// database's exclusive lock is held throughout, so it refuses to run beside `peixun serve`.
async fn keys_rotate(db: DbArgs) -> ExitCode {
    let url = peixun_store::resolve_database_url(db.database_url.as_deref(), &db.data_dir);
    let _lock = match peixun_store::restore::sqlite_file_of(&url) {
        Some(path) => match peixun_store::restore::lock_exclusive(&path) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("错误：{e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let store = match open_migrated(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let actor = Actor::system("peixun keys rotate");
    let files = match peixun_store::files::FilesLocation::resolve(db.files.as_deref(), &db.data_dir)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("错误：{e}");
            return ExitCode::from(2);
        }
    };
    match peixun_store::at_rest::rotate_data_key(
        &store,
        &db.data_dir,
        &files,
        &actor,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(r) => {
            println!(
                "数据密钥已轮换：{} → {}{}；重新加密学员证件号码 {} 条、教师证件号码 {} 条、上传文件 {} 个{}",
                r.old_key_id,
                r.new_key_id,
                if r.resumed {
                    "（接续上次中断的轮换）"
                } else {
                    ""
                },
                r.counts.trainees,
                r.counts.teachers,
                r.counts.files,
                if r.counts.files_missing > 0 {
                    format!("（{} 个文件记录缺少内容，未处理）", r.counts.files_missing)
                } else {
                    String::new()
                }
            );
            println!("旧密钥已停用。请立即另行备份新的 data.key（旧备份须配旧密钥才能读取）。");
            ExitCode::SUCCESS
        }
        Err(peixun_store::StoreError::Validation { message, .. }) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误：密钥轮换未完成（再次运行即继续）：{e}");
            ExitCode::from(2)
        }
    }
}

/// `peixun restore`: SQLite only (see `peixun_store::restore` for the checks and the guard
/// against a running server). Never migrates: `serve` does at its next start.
async fn restore(a: RestoreArgs) -> ExitCode {
    let url = peixun_store::resolve_database_url(a.db.database_url.as_deref(), &a.db.data_dir);
    let Some(db) = peixun_store::restore::sqlite_file_of(&url) else {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            eprintln!(
                "PostgreSQL 数据库不由 peixun restore 恢复：请停止服务后用 pg_restore 从 pg_dump 生成的备份恢复，\
                 步骤见 docs/OPERATIONS.md 的“恢复 PostgreSQL”一节"
            );
        } else {
            eprintln!("错误：数据库地址须为 SQLite 数据库文件（sqlite:…）");
        }
        return ExitCode::from(2);
    };
    match peixun_store::restore::restore_sqlite(&a.from, &db, chrono::Utc::now()).await {
        Ok(out) => {
            println!(
                "已从 {} 恢复数据库 {}（完整性检查通过，审计日志 {} 条校验通过；备份 SHA-256 {}）",
                a.from.display(),
                out.db.display(),
                out.check.audit_rows,
                out.check.sha256
            );
            match &out.replaced {
                Some(k) => println!("原数据库已保留为 {}", k.display()),
                None => println!("此前没有数据库，无需保留副本"),
            }
            ExitCode::SUCCESS
        }
        Err(
            peixun_store::StoreError::Validation { message, .. }
            | peixun_store::StoreError::Conflict { message, .. },
        ) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误：恢复失败：{e}");
            ExitCode::from(2)
        }
    }
}

async fn bench_queue(a: BenchQueueArgs) -> ExitCode {
    let scratch = std::env::temp_dir().join(format!(
        "peixun-bench-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    let url = match a.database_url.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display()),
    };
    let store = match Store::connect(&url).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("错误：无法打开数据库：{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = store.migrate().await {
        eprintln!("错误：数据库迁移失败：{e}");
        return ExitCode::from(2);
    }
    match peixun_store::bench::has_data(&store).await {
        Ok(true) if !a.yes => {
            eprintln!(
                "错误：该数据库已有数据；压测会写入压测批次、机构和审计记录。确认请加 --yes（建议使用临时数据库）"
            );
            return ExitCode::from(2);
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("错误：{e}");
            return ExitCode::from(2);
        }
    }
    let quota = a
        .quota
        .unwrap_or(((a.submissions + a.prefill) / 2).max(1) as u32);
    println!(
        "名额排队压测：{:?}，{} 个并发客户端，{} 次提交（另预置 {}），名额 {}",
        store.backend(),
        a.clients,
        a.submissions,
        a.prefill,
        quota
    );
    // Package documents and the roster key live beside the scratch database (or in a scratch
    // folder when benching a given database); removed afterwards.
    // The rosters are synthetic people: a fixed lookup key and a data key held in memory only
    // are enough (S14: the bench's ID numbers are encrypted like any others).
    let key = peixun_store::roster::RosterKey::new([0x42; 32]);
    let keys = peixun_store::pii::Keys::new(key.clone(), peixun_store::pii::DataKeys::ephemeral());
    store.set_keys(keys.clone());
    let files = peixun_store::files::FileStore::local_with_keys(&scratch, keys.data.clone());
    let result = peixun_store::bench::bench_queue(
        &store,
        &files,
        &key,
        a.clients,
        quota,
        a.submissions,
        a.prefill,
    )
    .await;
    let _ = store.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(r) => {
            println!(
                "用时 {:.3} s：{:.0} 次提交/秒；应答时间 p50 {:.1} ms，p99 {:.1} ms，最长 {:.1} ms；获得名额 {}，候补 {}，失败 {}；{}",
                r.elapsed.as_secs_f64(),
                r.submissions_per_sec,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                r.max.as_secs_f64() * 1e3,
                r.granted,
                r.waiting,
                r.errors,
                if r.exact() {
                    "恰好批出名额数"
                } else {
                    "批出数与名额不符"
                }
            );
            if r.exact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("错误：压测失败：{e}");
            ExitCode::FAILURE
        }
    }
}
