"""The message catalogue: every text a user reads from the engine and the API, in Chinese.

Code names a message by key and fills in its parameters: `text("step.cpu", element="拟办", seconds=2)`.
Keys are grouped by what they are about; a key missing here is a bug (KeyError), never English
shown to a user.
"""
from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- engine steps: budgets and incidents ---------------------------------------------------
    "step.cpu": "“{element}”运行超出 CPU 时间预算（{seconds} 秒），已停止，本步骤未保存任何改动",
    "step.wall": "“{element}”运行超时（{seconds} 秒），已停止，本步骤未保存任何改动",
    "step.memory": "“{element}”运行超出内存预算（{megabytes} MB），已停止，本步骤未保存任何改动",
    "step.crashed": "“{element}”运行时执行进程意外退出，本步骤未保存任何改动",
    "step.value_too_large": "“{element}”写入的变量“{name}”过大（{size} 字节，上限 {limit} 字节）",
    "step.data_too_large": "“{element}”之后流程数据过大（{size} 字节，上限 {limit} 字节）",
    "step.state_too_large": "“{element}”之后流程状态过大（{size} 字节，上限 {limit} 字节）",
    "step.value_type": "“{element}”写入的变量“{name}”不是可保存的数据（{kind}）：只能保存文字、数字、"
                       "是否、日期、列表和字典",
    "step.too_many_calls": "“{element}”调用引擎函数超过 {limit} 次，已停止",
    "step.unknown_element": "流程",
    "step.conflict": "另一操作同时修改了此流程实例，请刷新后重试",
    "function.workdays_range": "workdays() 的天数须在 -{limit} 到 {limit} 之间",
    # -- input: what requests and uploaded files may hold (web/api/input_guard.py, engine/untrusted.py) --
    "input.nul": "不能含有 NUL 字符（U+0000）",
    "input.surrogate": "含有无法保存的字符（孤立的 UTF-16 代理码位 U+D800–U+DFFF）",
    "input.json_too_deep": "JSON 嵌套超过 {limit} 层",
    "input.json_invalid": "不是有效的 JSON：{reason}",
    "input.not_text": "无法识别文件的文字编码（支持 UTF-8、UTF-16、UTF-32 以及文件声明的编码）",
    "input.submission_too_large": "提交的数据过大（{size} 字节，上限 {limit} 字节）",
    "input.title_invisible": "标题不能只由空白或零宽字符组成",
    "input.title_bidi": "标题不能含有双向文本控制字符（U+202A–U+202E、U+2066–U+2069）",
    "input.bpmn_too_large": "文件有 {size} 字节，超过上限 {limit} 字节",
    "input.bpmn_encoding": "无法按“{encoding}”编码读取文件：{reason}",
    "input.bpmn_unknown_encoding": "文件声明的编码“{encoding}”无法识别",
    "form.too_deep": "表单 {name} 嵌套超过 {limit} 层",
    "form.unstorable": "表单 {name} 的 {path} {problem}",
    "form.pattern_unsupported": "字段“{field}”的校验规则（pattern）“{pattern}”无法使用：{reason}（不支持反向引用 "
                                "\\1 和前后断言 ?= ?! ?<= ?<! 等写法）",
    "form.pattern_mismatch": "格式不符合要求（{pattern}）",
    "form.pattern_not_text": "校验规则须为文字",
    "form.pattern_unusable": "表单的校验规则无法使用（{reason}），请流程设计人员修改表单后重新部署",
    "form.validate_not_object": "字段“{field}”的 validate 须为对象",
    "calendar.too_large": "节假日文件超过上限 {limit} 字节",
    "calendar.yaml_alias": "节假日文件不能使用 YAML 锚点和别名（&、*）（第 {line} 行）",
    "calendar.yaml_too_deep": "节假日文件嵌套超过 {limit} 层（第 {line} 行）",
    "calendar.yaml_invalid": "节假日文件不是有效的 YAML：{reason}",
    "calendar.not_utf8": "节假日文件不是 UTF-8 文本",
    "calendar.year_not_mapping": "节假日文件中 {year} 年之下应为 holidays 和 workdays 两个日期列表",
    "calendar.day_not_mapping": "节假日文件 days 之下每一项应为含 date、workday 的对象",
    # -- process limits: deploy checks and run time (engine/bpmn/inspect.py, timers.py, parser.py,
    #    engine/services/hooks.py, engine/calendar.py) ------------------------------------------
    "limit.timer_min_cycle": "循环定时器“{cycle}”每 {interval} 秒触发一次，短于允许的最小间隔 {minimum} 秒"
                             "（DUBAN_MIN_TIMER_CYCLE_S）",
    "limit.timer_unbounded_cycle": "非中断定时器“{cycle}”无限次重复，每次触发都会产生一条新的分支；"
                                   "请写明次数（如 R5/P1D）",
    "limit.multi_instance_max": "多实例数量 {count} 超过上限 {limit}（DUBAN_MAX_MULTI_INSTANCE）",
    "limit.multi_instance_run": "“{element}”要创建 {count} 个多实例，超过上限 {limit}"
                                "（DUBAN_MAX_MULTI_INSTANCE），已停止",
    "function.is_workday_day": "is_workday() 需要一个日期（如 2026-10-16），而不是 {value}",
    "calendar.workdays_range": "工作日天数须在 0 到 {limit} 之间",
    # -- 保密: what does not exist for the caller (engine/access.py); the same words whether it is
    #    missing or hidden ------------------------------------------------------------------------
    "item.not_found": "督办事项 {id} 不存在",
    "instance.not_found": "流程实例 {id} 不存在",
    "task.not_found": "任务 {id} 不存在",
    "extension.not_found": "延期申请 {id} 不存在",
    "notification.not_found": "通知 {id} 不存在",
    # -- accounts, sessions and the audit log (engine/services/auth.py, users.py, audit.py, web/auth.py) --
    "auth.wrong": "用户名或密码错误",
    "auth.locked": "账号已因多次密码错误被锁定，请 {minutes} 分钟后再试",
    "auth.sign_in_first": "请先登录：发送 Authorization: Bearer <令牌>",
    "auth.token_invalid": "令牌无效或已过期，请重新登录",
    "auth.disabled": "账号已停用",
    "auth.session_idle": "会话已超时，请重新登录",
    "auth.password_change_required": "口令由他人设置，须先修改口令才能继续（POST /api/v1/me/password，"
                                     "或打开 /account/password）",
    "password.too_short": "口令至少 {length} 个字符",
    "password.kinds": "口令须包含小写字母、大写字母、数字、符号中的至少三类",
    "password.username": "口令不能包含用户名",
    "password.common": "这是最常见的口令之一，极易被猜中，请换一个",
    "password.guessable": "口令太容易被猜中（常见单词、键盘序列、重复或连续的字符），请换一个",
    "password.too_weak": "口令强度不够：{problems}",
    "password.same": "新口令不能与当前口令相同",
    "password.wrong_current": "当前口令错误",
    "users.only": "只有{roles}可以{what}（三员分立）",
    "users.not_found": "用户“{username}”不存在",
    "users.unknown_role": "未知角色“{role}”",
    "users.role_choices": "可选：{roles}",
    "users.own_roles": "任何人都不能授予或撤销自己的角色",
    "users.own_password": "修改本人口令须验证当前口令（POST /api/v1/me/password 或 /account/password）",
    "users.separated": "{username} 已担任“{held}”，三员分立不允许再授予“{role}”",
    "users.three_admins_cli": "{username} 担任三员角色（{role}），其口令只能在服务器命令行重置："
                              "duban user reset-password {username}",
    "users.granted_by_you": "你为 {username} 授予过角色，不能再设置其口令（三员分立：授予权限与设置口令不能是同一人）",
    "users.password_set_by_you": "{username} 的口令是你设置的且尚未由本人修改，你不能再为其授予角色（三员分立）",
    "audit.only_auditor": "只有安全审计员可以查看审计日志（三员分立）",
    "audit.retention": "审计记录至少保存六个月（183 天）",
    "audit.retention_before": "须不晚于 {date}",
    "audit.changed": "第 {id} 条记录被改动、插入或删除，哈希链从此处断开",
    "audit.anchor_mismatch": "第 {id} 条记录与锚点文件中记下的哈希不符",
    "audit.cut": "最新的记录被删除：锚点文件记到第 {anchored} 条，数据库只到第 {last} 条",
    "audit.anchor_missing": "锚点文件 {path} 不存在，无法确认最新的记录没有被删除",
    # 督办 steps and their deploy-time contract (engine/bpmn/contract.py), the 发起 page (issue 11)
    "contract.lane_role": "泳道声明的角色“{role}”不存在，可选：{roles}",
    "contract.starter_role": "duban:starterRoles 中的角色“{role}”不存在，可选：{roles}",
    "contract.unknown_kind": "未知的督办环节类型“{kind}”，可选：{kinds}",
    "contract.kind_element": "“{label}”环节只能用于：{types}",
    "contract.unit_branch": "“{label}”是承办单位的环节，须放在按承办单位展开的多实例子流程内",
    "contract.option_integer": "选项“{option}”须为整数，现为“{value}”",
    "contract.timer_missing": "“{label}”须是定时事件",
    "contract.timer_moment": "定时表达式“{expression}”给出的是时刻而非时长或周期：请改为定时日期（timeDate）",
    "contract.timer_date": "“{label}”须用定时日期（timeDate），以工作日函数计算",
    "contract.timer_interrupting": "“{label}”定时事件须为非中断：它只标记期限，不能取消所附的办理任务（边界事件去掉"
                                   "“中断”，事件子流程的开始事件设为非中断）",
    "contract.timer_unit": "“{label}”的定时日期“{expression}”须按本单位期限计算（unit_deadline(unit) 或 remind_at(unit)）",
    "contract.urge_deadline": "催办须由同一承办单位分支中的“期限届满”定时事件引出",
    "contract.escalate_urge": "责任追究须在催办之后：流程中没有“催办”环节",
    "contract.needs_report": "流程没有“办结报告”或“答复”环节，无从判断承办单位是否到期未报告",
    "contract.lane_unit": "泳道指定的单位“{unit}”不存在（任务“{task}”）：请从组织机构中选择单位",
    "contract.task_form": "用户任务没有表单：请选择一个表单（camunda:formRef）",
    "contract.task_candidate": "用户任务没有办理人：请放入声明了角色或单位的泳道，或指定候选角色、候选人",
    "start.not_startable": "你不能发起流程“{process}”",
    "start.no_process": "流程“{process}”未部署",
    "start.title_required": "请填写事项标题（title）",
}


def text(key: str, **params) -> str:
    """The message `key` with its parameters filled in."""
    return TEXTS[key].format(**params)
