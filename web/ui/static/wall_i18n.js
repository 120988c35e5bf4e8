// Interface text of the supervisor's wall and recent-calls page, English and Chinese (added to I18N).
"use strict";
Object.assign(window.I18N.en, {
  stale: "stale",
  taken_over_by: "taken over by {who}", acknowledged_by: "acknowledged by {who}", resolved_by: "resolved by {who}",
  already_done: "Already done: {msg}", action_failed: "Could not do that: {msg}",
  take_over_go: "Take over now", mode: "Mode", mode_listen: "listen", mode_whisper: "whisper", mode_barge: "barge in",
  note: "Note", note_ph: "what you do, for the record", cancel: "Cancel",
  hook_ok: "Phone system: {mode} started.", hook_failed: "Phone system hook failed: {msg}. The take-over is recorded; join the call on your phone.",
  hook_none: "No phone-system hook configured: join the call on your phone ({mode}).",
  escalated: "escalated", escalated_text: "Escalated: nobody took this call within {s} s.",
  sound_off: "Sound is off until you click on this page (browser rule). Click here to enable hand-off beeps.",
  counts: "Live", view_grid: "Tiles", view_list: "Compact list", filter_team: "Team", filter_level: "Level",
  filter_agent: "Agent", all_teams: "all teams", all_levels: "all levels", agent_ph: "agent id",
  duration: "Duration", last_alert: "Last alert", owner: "Owner", nobody: "nobody", no_alert: "no alert",
  review_link: "Review", recent_calls: "Recent calls of my team (7 days)", started: "Started", status: "Status",
  health_ok_leg: "ok", shown: "{n} of {total} calls shown", ago: "{t} ago",
});
Object.assign(window.I18N.zh, {
  stale: "已过时",
  taken_over_by: "已由 {who} 接管", acknowledged_by: "已由 {who} 确认", resolved_by: "已由 {who} 解决",
  already_done: "已处理：{msg}", action_failed: "操作失败：{msg}",
  take_over_go: "立即接管", mode: "方式", mode_listen: "监听", mode_whisper: "耳语", mode_barge: "强插",
  note: "备注", note_ph: "记录您的处理", cancel: "取消",
  hook_ok: "电话系统：已开始{mode}。", hook_failed: "电话系统接口失败：{msg}。接管已记录，请用电话加入通话。",
  hook_none: "未配置电话系统接口：请用电话加入通话（{mode}）。",
  escalated: "已升级", escalated_text: "已升级：{s} 秒内无人接管此通话。",
  sound_off: "在您点击本页之前声音处于关闭状态（浏览器规定）。点击此处开启接管提示音。",
  counts: "进行中", view_grid: "卡片", view_list: "紧凑列表", filter_team: "团队", filter_level: "级别",
  filter_agent: "坐席", all_teams: "全部团队", all_levels: "全部级别", agent_ph: "坐席编号",
  duration: "时长", last_alert: "最近告警", owner: "负责人", nobody: "无人", no_alert: "无告警",
  review_link: "质检页", recent_calls: "本团队最近的通话（7 天）", started: "开始时间", status: "状态",
  health_ok_leg: "正常", shown: "显示 {n} / {total} 个通话", ago: "{t} 前",
});
