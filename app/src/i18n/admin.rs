//! The operator admin pages' texts, English and Simplified Chinese side by side. `{}` marks
//! a value. Kept apart from the driver texts so both can change independently.

use super::Lang;

macro_rules! texts {
    ($($key:ident => $en:literal, $zh:literal;)+) => {
        /// An admin UI text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum A {
            $(
                #[doc = $en]
                $key,
            )+
        }

        impl A {
            /// Every text (for completeness tests).
            pub const ALL: &'static [A] = &[$(A::$key),+];

            /// English.
            pub fn en(self) -> &'static str {
                match self { $(A::$key => $en,)+ }
            }

            /// Simplified Chinese.
            pub fn zh(self) -> &'static str {
                match self { $(A::$key => $zh,)+ }
            }
        }
    };
}

impl A {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en(),
            Lang::Zh => self.zh(),
        }
    }
}

texts! {
    Title => "Operator admin", "运营管理";
    NavOverview => "Overview", "概览";
    NavSites => "Sites", "站点";
    NavPiles => "Piles", "充电桩";
    NavImport => "Import", "批量导入";
    NavHealth => "Fleet health", "设备健康";
    NavReservations => "Reservations", "预约";
    NavUsers => "Users", "用户";
    NavAnalytics => "Analytics", "统计分析";
    NavAudit => "Audit log", "审计日志";
    AdminMenu => "Admin sections", "管理栏目";
    Forbidden => "Admins only", "仅限管理员";
    ForbiddenText => "Your account cannot open the admin pages.", "您的账户无权打开管理页面。";
    SignInFirst => "Sign in as an admin to continue.", "请以管理员身份登录后继续。";
    Save => "Save", "保存";
    Saving => "Saving…", "正在保存…";
    Saved => "Saved.", "已保存。";
    Create => "Create", "创建";
    Edit => "Edit", "编辑";
    Enable => "Enable", "启用";
    Disable => "Disable", "停用";
    Enabled => "enabled", "已启用";
    Disabled => "disabled", "已停用";
    Yes => "yes", "是";
    No => "no", "否";
    Search => "Search", "搜索";
    Clear => "Clear", "清除";
    Any => "Any", "全部";
    Actions => "Actions", "操作";
    Failed => "That did not work: {}", "操作失败：{}";
    Never => "never", "从未";
    Ago => "{} ago", "{}前";
    Count => "{} shown", "显示 {} 条";
    NoneFound => "Nothing matches.", "没有匹配项。";
    // Overview
    OverviewIntro => "Configure sites and piles, provision device credentials, watch fleet health and reservations, manage users, and see how piles are used.", "配置站点和充电桩、发放设备凭证、监控设备健康与预约、管理用户，并查看充电桩使用情况。";
    RecentActions => "Recent admin actions", "最近的管理操作";
    OpenProblems => "{} open problems", "{} 个待处理问题";
    // Sites
    SitesTitle => "Sites", "站点";
    NewSite => "New site", "新建站点";
    EditSite => "Edit site", "编辑站点";
    SiteName => "Name", "名称";
    SiteAddress => "Address", "地址";
    Lat => "Latitude", "纬度";
    Lon => "Longitude", "经度";
    LatLonHint => "Decimal degrees, e.g. 22.5431 and 114.0579", "十进制度数，例如 22.5431 和 114.0579";
    Timezone => "Timezone", "时区";
    TimezoneHint => "IANA name, e.g. Asia/Shanghai", "IANA 时区名，例如 Asia/Shanghai";
    Policies => "Policies", "策略";
    HoldSecs => "Hold time (s)", "保留时长（秒）";
    GraceSecs => "Arrival grace (s)", "到达宽限（秒）";
    FreshnessSecs => "Sensor freshness limit (s)", "传感器新鲜度上限（秒）";
    FreshnessHint => "Empty: derived from each pile's heartbeat", "留空：按各充电桩心跳推算";
    ReservationsAllowed => "Reservations allowed", "允许预约";
    Piles => "Piles", "充电桩";
    State => "State", "状态";
    Position => "Position", "位置";
    SiteDisabledNote => "A disabled site's piles are shown as disabled and their holds are voided.", "停用站点的充电桩显示为停用，其预约将作废。";
    // Field errors
    ErrRequired => "Required.", "必填。";
    ErrTooLong => "Too long.", "太长。";
    ErrNumber => "Enter a number.", "请输入数字。";
    ErrRange => "Out of range.", "超出范围。";
    ErrTimezone => "Not a timezone name (e.g. Asia/Shanghai).", "不是有效的时区名（例如 Asia/Shanghai）。";
    ErrConnector => "Choose CCS2, Type2, GBT or CHAdeMO.", "请选择 CCS2、Type2、GBT 或 CHAdeMO。";
    ErrCodeFormat => "Letters, digits, '-', '_' and '.' only (up to 40).", "仅限字母、数字、“-”“_”“.”（最多 40 个）。";
    ErrSensor => "Lower-case letters and '_' only.", "仅限小写字母和“_”。";
    ErrTaken => "This pile code is taken.", "该充电桩编号已被使用。";
    ErrUnknownSite => "No such site.", "站点不存在。";
    ErrDuplicateInFile => "Duplicate pile code (first on line {}).", "充电桩编号重复（首次出现在第 {} 行）。";
    ErrYesNo => "Use yes or no.", "请填写 yes 或 no。";
    ErrCsv => "Unreadable CSV row.", "无法读取的 CSV 行。";
    ErrUnknownColumn => "Unknown column.", "未知列。";
    ErrMissingColumn => "Missing column.", "缺少列。";
    ErrEmpty => "No data rows.", "没有数据行。";
    ErrTooLarge => "File too large (1 MB at most).", "文件过大（最大 1 MB）。";
    ErrTooManyRows => "Too many rows (5000 at most).", "行数过多（最多 5000 行）。";
    ErrTakenMeanwhile => "A pile code was taken meanwhile; nothing was imported.", "期间有充电桩编号被占用；未导入任何数据。";
    ErrOther => "Invalid.", "无效。";
    // Piles
    PilesTitle => "Piles and bays", "充电桩与车位";
    NewPile => "New pile", "新建充电桩";
    EditPile => "Edit pile", "编辑充电桩";
    Site => "Site", "站点";
    AllSites => "All sites", "全部站点";
    AnyState => "Any state", "全部状态";
    PileCode => "Code", "编号";
    Connector => "Connector", "接口";
    MaxKw => "Power (kW)", "功率（kW）";
    PriceText => "Price text", "价格说明";
    HeartbeatSecs => "Heartbeat (s)", "心跳（秒）";
    Sensor => "Bay sensor", "车位传感器";
    Reason => "State and reason", "状态与原因";
    Bay => "Bay", "车位";
    LastReport => "Last report", "最近上报";
    CodeOrSite => "Code or site", "编号或站点";
    Filter => "Filter", "筛选";
    DisableVoidsHold => "Disabling voids an active hold; the driver is alerted.", "停用会作废当前预约，并通知驾驶员。";
    // Pile detail / credentials
    Telemetry => "Live telemetry", "实时遥测";
    Sequence => "Sequence number", "序列号";
    Battery => "Battery", "电池";
    Quality => "Sensor quality", "传感器质量";
    FromAddr => "Reported from", "上报地址";
    BaySince => "Bay state since", "车位状态起始";
    Flapping => "Flapping", "频繁跳变";
    Credential => "Device credential", "设备凭证";
    NoCredential => "No credential issued yet.", "尚未发放凭证。";
    Fingerprint => "Fingerprint", "指纹";
    IssuedAt => "Issued", "发放时间";
    RevokedAt => "Revoked", "吊销时间";
    Issue => "Issue credential", "发放凭证";
    Rotate => "Rotate credential", "轮换凭证";
    Revoke => "Revoke credential", "吊销凭证";
    SecretOnce => "Copy this key into the pile now. It is shown only once.", "请立即将此密钥写入充电桩，它只显示一次。";
    KeyLabel => "Key", "密钥";
    Problems => "Problems", "问题";
    NoProblems => "No problems.", "没有问题。";
    History => "Admin actions on this pile", "对该充电桩的管理操作";
    // Import
    ImportTitle => "Import sites and piles", "批量导入站点与充电桩";
    ImportHelp => "One row per pile, with a header row. A row names its site: an existing site (same name) or one an earlier row created is reused; otherwise address, lat and lon create it. Leave code empty for a site-only row. Nothing is imported unless every row is valid.", "每行一个充电桩，需有表头。每行写明站点：同名的已有站点或前面行创建的站点会被复用，否则用 address、lat、lon 新建。code 留空表示只建站点。只有全部行都有效时才会导入。";
    Columns => "Columns", "列";
    CsvText => "CSV (paste, or choose a file)", "CSV（粘贴或选择文件）";
    ChooseFile => "CSV file", "CSV 文件";
    DryRun => "Preview (dry run)", "预览（试运行）";
    DoImport => "Import", "导入";
    Line => "Line", "行";
    Outcome => "Outcome", "结果";
    WillCreateSite => "new site", "新建站点";
    WillCreatePile => "new pile", "新建充电桩";
    ExistingSite => "existing site", "已有站点";
    RowOk => "ok", "正常";
    Errors => "Errors", "错误";
    PreviewSummary => "Preview: {} new sites, {} new piles, {} rows with errors.", "预览：新建 {} 个站点、{} 个充电桩，{} 行有错误。";
    ImportedSummary => "Imported {} sites and {} piles.", "已导入 {} 个站点和 {} 个充电桩。";
    NotImported => "Nothing was imported: fix the rows with errors.", "未导入任何数据：请修正有错误的行。";
    FileErrors => "File problems", "文件问题";
    // Health
    HealthTitle => "Fleet health", "设备健康";
    HealthIntro => "Problems now, most severe first. Refreshes by itself.", "当前问题，按严重程度排序，自动刷新。";
    Problem => "Problem", "问题";
    For => "For", "持续";
    Pile => "Pile", "充电桩";
    PStale => "Stale sensor", "传感器数据过期";
    PFlapping => "Flapping bay", "车位频繁跳变";
    PLowBattery => "Low battery ({} %)", "电量低（{}%）";
    PFaulted => "Faulted pile", "充电桩故障";
    PNeverHeard => "Never heard from", "从未上报";
    POffline => "Offline", "离线";
    PBlocked => "Bay blocked over 15 min", "车位被占超过 15 分钟";
    AllHealthy => "No problems: every enabled pile is healthy.", "没有问题：所有启用的充电桩都正常。";
    // Reservations
    ResTitle => "Reservations", "预约";
    Driver => "Driver email", "驾驶员邮箱";
    Status => "Status", "状态";
    From => "From", "从";
    To => "To", "到";
    Taken => "Taken", "预约时间";
    Deadline => "Deadline", "截止时间";
    Ended => "Ended", "结束时间";
    Cause => "Cause", "原因";
    CancelWithReason => "Cancel", "取消";
    ReasonLabel => "Reason (told to the audit log)", "原因（记入审计日志）";
    ConfirmCancel => "Cancel this hold", "取消此预约";
    // Users
    UsersTitle => "Users", "用户";
    EmailOrName => "Email or name", "邮箱或姓名";
    Email => "Email", "邮箱";
    Name => "Name", "姓名";
    Role => "Role", "角色";
    RoleAdmin => "admin", "管理员";
    RoleDriver => "driver", "驾驶员";
    Created => "Created", "创建时间";
    ReservationsCount => "Reservations", "预约数";
    Promote => "Make admin", "设为管理员";
    Demote => "Make driver", "设为驾驶员";
    You => "you", "您";
    // Analytics
    AnalyticsTitle => "History and analytics", "历史与统计";
    AnalyticsIntro => "Per site or per pile over a time range (times in UTC+8).", "按站点或充电桩统计所选时间段（时间为 UTC+8）。";
    Last24h => "Last 24 h", "最近 24 小时";
    Last7d => "Last 7 days", "最近 7 天";
    Show => "Show", "显示";
    Utilisation => "Utilisation (share of time charging)", "利用率（充电时间占比）";
    BlockedMinutes => "Blocked minutes", "被占分钟数";
    SensorUptime => "Sensor uptime", "传感器在线率";
    ByOutcome => "Reservations by outcome", "按结果统计的预约";
    ExportCsv => "Export CSV", "导出 CSV";
    ChooseScope => "Choose a site (or a pile) to see its analytics.", "请选择站点（或充电桩）查看统计。";
    ChartLabel => "Utilisation and blocked minutes over time", "利用率与被占分钟数随时间变化";
    AllPiles => "All piles of the site", "站点全部充电桩";
    // Audit
    AuditTitle => "Audit log", "审计日志";
    When => "When", "时间";
    Who => "Who", "操作人";
    What => "What", "操作";
    Target => "Target", "对象";
    Details => "Details", "详情";
}

impl super::I18n {
    /// A reactive admin text.
    pub fn a(self, key: A) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        use leptos::prelude::Get;
        move || key.get(self.0.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_text_has_both_languages() {
        for t in A::ALL {
            assert!(!t.en().is_empty() && !t.zh().is_empty(), "{t:?}");
            assert_ne!(t.en(), t.zh(), "{t:?} looks untranslated");
        }
    }

    #[test]
    fn placeholders_match() {
        for t in A::ALL {
            assert_eq!(
                t.en().matches("{}").count(),
                t.zh().matches("{}").count(),
                "{t:?}"
            );
        }
    }
}
