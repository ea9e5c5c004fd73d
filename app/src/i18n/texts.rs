//! Every UI text, English and Simplified Chinese side by side. `{}` marks a value.

macro_rules! texts {
    ($($key:ident => $en:literal, $zh:literal;)+) => {
        /// A UI text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum T {
            $(
                #[doc = $en]
                $key,
            )+
        }

        impl T {
            /// Every text (for completeness tests).
            pub const ALL: &'static [T] = &[$(T::$key),+];

            /// English.
            pub fn en(self) -> &'static str {
                match self { $(T::$key => $en,)+ }
            }

            /// Simplified Chinese.
            pub fn zh(self) -> &'static str {
                match self { $(T::$key => $zh,)+ }
            }
        }
    };
}

texts! {
    Tagline => "Chargers whose bay is really free", "车位真空闲的充电桩";
    NavMap => "Map", "地图";
    NavReservations => "My reservations", "我的预约";
    NavSignIn => "Sign in", "登录";
    NavSignUp => "Sign up", "注册";
    NavSignOut => "Sign out", "退出";
    NavAdmin => "Admin", "管理";
    LangSwitch => "中文", "English";
    LangSwitchLabel => "Switch language to Chinese", "切换到英文";
    IdleSummary => "{} of {} piles idle now", "{} / {} 个充电桩现在空闲";
    Live => "live", "实时";
    Offline => "You are offline — showing the last data this device saw.", "您已离线——显示本设备最后获取的数据。";
    Reconnecting => "Reconnecting…", "正在重新连接…";
    StateIdle => "Idle — bay free", "空闲 — 车位空";
    StateCharging => "Charging", "充电中";
    StateReserved => "Reserved", "已预约";
    StateBlocked => "Blocked — bay occupied", "被占 — 车位有车";
    StateStale => "Sensor silent", "传感器无响应";
    StateFaulted => "Faulted", "故障";
    StateOffline => "Offline", "离线";
    StateDisabled => "Disabled", "已停用";
    BaySeenSecs => "bay seen {} s ago", "车位 {} 秒前确认";
    BaySeenMins => "bay seen {} min ago", "车位 {} 分钟前确认";
    BaySeenHours => "bay seen {} h ago", "车位 {} 小时前确认";
    NeverHeard => "never heard", "从未上报";
    FiltersTitle => "Filters", "筛选";
    FilterConnector => "Connector", "接口";
    FilterAnyConnector => "Any connector", "任意接口";
    FilterMinPower => "Minimum power (kW)", "最低功率（kW）";
    FilterIdleOnly => "Idle now only", "仅显示空闲";
    FilterSearch => "Site or address", "站点或地址";
    FilterApply => "Apply", "应用";
    FilterClear => "Clear", "清除";
    ViewMap => "Map", "地图";
    ViewList => "List", "列表";
    NoResults => "No piles match these filters.", "没有符合条件的充电桩。";
    ResultsCount => "{} piles", "{} 个充电桩";
    Km => "{} km", "{} 公里";
    Legend => "Legend", "图例";
    MapLabel => "Map of piles", "充电桩地图";
    ListLabel => "Piles sorted by distance", "按距离排序的充电桩";
    Details => "Details", "详情";
    Reserve => "Reserve", "预约";
    Reserving => "Reserving…", "正在预约…";
    NotifyMe => "Notify me when free", "空闲时通知我";
    Watching => "We'll tell you when it is free", "空闲时我们会通知您";
    Navigate => "Navigate", "导航";
    Price => "Price", "价格";
    Power => "Power", "功率";
    Connector => "Connector", "接口";
    Address => "Address", "地址";
    Sensor => "Bay sensor", "车位传感器";
    Timeline => "Bay occupancy, last 3 hours", "车位占用情况（最近 3 小时）";
    TimelineFree => "free", "空";
    TimelineOccupied => "occupied", "有车";
    TimelineUnknown => "unknown", "未知";
    BackToMap => "Back to the map", "返回地图";
    SignInToReserve => "Sign in to reserve", "登录后预约";
    YourHold => "Your reservation", "您的预约";
    HeldUntil => "Held for you until {}", "为您保留至 {}";
    TimeLeft => "{} left", "剩余 {}";
    ImHere => "I'm here", "我已到达";
    CheckedIn => "Checked in — park in the bay to start.", "已签到——请停入车位。";
    Cancel => "Cancel", "取消";
    Directions => "Directions", "路线";
    HoldBlocked => "Someone else is in the bay — your hold has ended.", "车位已被他人占用——您的预约已结束。";
    HoldVoided => "The pile became unavailable — your hold has ended.", "充电桩不可用——您的预约已结束。";
    HoldExpired => "Your hold expired.", "您的预约已过期。";
    HoldFulfilled => "You're in. Happy charging!", "已到位，祝充电愉快！";
    HoldCancelled => "Reservation cancelled.", "预约已取消。";
    Alternative => "Nearest idle pile: {} at {} ({} km)", "最近的空闲充电桩：{}（{}，{} 公里）";
    ReserveAlternative => "Reserve it", "预约它";
    NowIdle => "{} is free now.", "{} 现在空闲。";
    Dismiss => "Dismiss", "关闭";
    HistoryTitle => "My reservations", "我的预约";
    NoReservations => "No reservations yet.", "还没有预约。";
    ColPile => "Pile", "充电桩";
    ColStatus => "Outcome", "结果";
    ColStarted => "Reserved at", "预约时间";
    ColEnded => "Ended at", "结束时间";
    OutcomeHeld => "held", "保留中";
    OutcomeFulfilled => "fulfilled", "已到达";
    OutcomeCancelled => "cancelled", "已取消";
    OutcomeExpired => "expired (no-show)", "已过期（未到）";
    OutcomeBlocked => "blocked", "被占";
    OutcomeVoided => "voided", "已作废";
    Email => "Email", "邮箱";
    Password => "Password", "密码";
    Name => "Name", "姓名";
    SignInTitle => "Sign in", "登录";
    SignUpTitle => "Create an account", "创建账户";
    WrongPassword => "Wrong email or password.", "邮箱或密码错误。";
    EmailTaken => "An account with this email already exists.", "该邮箱已注册。";
    WeakPassword => "Use at least 10 characters, not a common password.", "密码至少 10 个字符，且不能是常见密码。";
    InvalidEmail => "Enter a valid email address.", "请输入有效的邮箱地址。";
    InvalidName => "Name must be 1 to 60 characters.", "姓名需为 1 至 60 个字符。";
    NoAccount => "No account yet?", "还没有账户？";
    HaveAccount => "Already have an account?", "已有账户？";
    SomethingWrong => "Something went wrong. Please try again.", "出错了，请重试。";
    NotFoundTitle => "Page not found", "页面未找到";
    Loading => "Loading…", "加载中…";
}
