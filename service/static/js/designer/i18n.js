// Chinese for the modeler: bpmn-js passes every text of its palette, context pad, replace menu and
// properties panel through the `translate` service; we answer from this table (English on the
// English page, and for any text not listed).
const ZH = {
  // palette and context pad
  'Activate hand tool': '移动画布', 'Activate lasso tool': '框选', 'Activate create/remove space tool': '插入/删除空白',
  'Activate global connect tool': '连线', 'Create start event': '开始事件', 'Create intermediate/boundary event': '中间/边界事件',
  'Create end event': '结束事件', 'Create gateway': '网关', 'Create task': '任务', 'Create expanded sub-process': '子流程',
  'Create data object reference': '数据对象', 'Create data store reference': '数据存储', 'Create group': '分组',
  'Create pool/participant': '泳池', 'Append end event': '追加结束事件', 'Append gateway': '追加网关', 'Append task': '追加任务',
  'Append intermediate/boundary event': '追加中间事件', 'Append timer intermediate catch event': '追加定时事件',
  'Append message intermediate catch event': '追加消息事件', 'Append signal intermediate catch event': '追加信号事件',
  'Append conditional intermediate catch event': '追加条件事件', 'Append receive task': '追加接收任务',
  'Append compensation activity': '追加补偿活动', 'Change element': '更改类型', 'Delete': '删除',
  'Connect to other element': '连接到其他元素', 'Connect using association': '用关联连接',
  'Connect using data input association': '用数据输入连接', 'Add lane above': '在上方添加泳道',
  'Add lane below': '在下方添加泳道', 'Divide into two lanes': '拆分为两个泳道', 'Divide into three lanes': '拆分为三个泳道',
  'Add text annotation': '添加注释', 'Toggle non-interrupting': '切换为不中断',
  'Loop': '循环', 'Parallel multi-instance': '并行多实例', 'Sequential multi-instance': '串行多实例',
  // element kinds (replace menu)
  'Task': '任务', 'User task': '用户任务', 'Manual task': '人工任务', 'Script task': '脚本任务', 'Service task': '服务任务',
  'Send task': '发送任务', 'Receive task': '接收任务', 'Business rule task': '业务规则任务', 'Call activity': '调用活动',
  'Sub-process': '子流程', 'Sub-process (collapsed)': '子流程（折叠）', 'Sub-process (expanded)': '子流程（展开）',
  'Event sub-process': '事件子流程', 'Transaction': '事务', 'Start event': '开始事件', 'End event': '结束事件',
  'Intermediate throw event': '中间抛出事件', 'Boundary event': '边界事件', 'Timer start event': '定时开始事件',
  'Timer intermediate catch event': '定时中间事件', 'Timer boundary event': '定时边界事件',
  'Timer boundary event (non-interrupting)': '定时边界事件（不中断）', 'Terminate end event': '终止结束事件',
  'Message start event': '消息开始事件', 'Message end event': '消息结束事件', 'Signal end event': '信号结束事件',
  'Error end event': '错误结束事件', 'Error boundary event': '错误边界事件', 'Escalation end event': '升级结束事件',
  'Exclusive gateway': '排他网关', 'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关',
  'Complex gateway': '复杂网关', 'Event-based gateway': '事件网关', 'Sequence flow': '顺序流',
  'Default flow': '默认路径', 'Conditional flow': '条件路径', 'Data object reference': '数据对象',
  'Data store reference': '数据存储', 'Empty pool/participant': '空泳池', 'Expanded pool/participant': '展开的泳池',
  // properties panel, standard groups
  'General': '基本信息', 'Name': '名称', 'ID': '标识（ID）', 'Documentation': '说明', 'Element documentation': '环节说明',
  'Process documentation': '流程说明', 'Process name': '流程名称', 'Process ID': '流程标识', 'Executable': '可执行',
  'Participant Name': '参与者名称', 'Timer': '定时器', 'Type': '类型', 'Value': '值', 'Date': '日期时间', 'Duration': '时长',
  'Cycle': '循环', '<none>': '（无）', 'Multi-instance': '多实例', 'Message': '消息', 'Signal': '信号', 'Error': '错误',
  'Escalation': '升级', 'Link': '链接', 'Compensation': '补偿', 'Completion': '完成条件',
  'Select an element to edit its properties.': '选择一个元素以编辑其属性。',
  'Multiple elements are selected. Select a single element to edit its properties.': '已选中多个元素，请只选择一个。',
  'ID must be unique.': '标识必须唯一。', 'ID must not be empty.': '标识不能为空。',
  'ID must not contain spaces.': '标识不能包含空格。', 'ID must be a valid QName.': '标识必须是有效的 QName。',
  'A specific point in time defined as ISO 8601 combined date and time representation.': '一个时间点（ISO 8601 日期时间）。',
  'A time duration defined as ISO 8601 durations format.': '一段时长（ISO 8601 时长）。',
  'A cycle defined as ISO 8601 repeating intervals format.': '重复周期（ISO 8601 重复间隔）。',
  // our own groups (properties.js)
  'Form and handling': '表单与办理', 'Form (JSON Schema)': '表单（JSON Schema）', 'File in the form library': '表单库中的文件',
  'UI schema': '界面布局（UI Schema）', 'Optional layout of the form': '可选：表单的布局',
  'Candidate unit expression': '办理单位表达式', 'Unit code that must do the task, e.g. dept': '返回办理单位代码，如 dept',
  'Due at expression': '办理期限表达式', 'e.g. working_days_later(3)': '如 working_days_later(3)',
  'Warn at expression': '预警时间表达式', 'e.g. hours_before(due_at, 4)': '如 hours_before(due_at, 4)',
  'Starting': '发起', 'Start form (JSON Schema)': '发起表单（JSON Schema）', 'Data an instance starts with': '发起时填写的数据',
  'Startable by': '可发起角色', 'Role keys separated by commas, * for anyone; default: the lane of the start event':
    '角色代码，逗号分隔，* 表示所有人；默认为开始事件所在泳道',
  'Condition': '条件', 'Condition expression': '条件表达式',
  'Python expression over the task data, e.g. call_county == True': '基于流程数据的 Python 表达式，如 call_county == True',
  'Script': '脚本', 'Python, run in the sandbox: no imports; call helpers such as record_event(kind, message).':
    'Python 脚本，在沙箱中运行：不能 import；可调用 record_event(kind, message) 等助手函数。',
  'Pre- and post-scripts': '前置/后置脚本', 'Pre-script': '前置脚本', 'Runs before the task': '任务开始前执行',
  'Post-script': '后置脚本', 'Runs after the task': '任务完成后执行', 'Lane': '泳道', 'Role of this lane': '对应角色',
  'The lane name matches no role: deploying will be refused.': '泳道名称不对应任何角色，部署将被拒绝。',
  '(choose a role)': '（选择角色）', '(none)': '（无）', 'Timer expressions': '定时器表达式写法',
  'Timer values are Python expressions: quote ISO 8601 values ("PT2H", "2026-03-02T09:00:00+08:00", "R3/PT1H") or call a helper: working_days_later(3), hours_later(2), hours_before(deadline, 4).':
    '定时器的值是 Python 表达式：ISO 8601 值须加引号（"PT2H"、"2026-03-02T09:00:00+08:00"、"R3/PT1H"），或调用助手函数：working_days_later(3)、hours_later(2)、hours_before(deadline, 4)。'
};

export function translator(locale) {
  return function translate(template, replacements) {
    const text = locale === 'en' ? template : (ZH[template] || template);
    return text.replace(/{([^}]+)}/g, (_, key) => (replacements && key in replacements ? replacements[key] : '{' + key + '}'));
  };
}
