// 电子刊物 (views/Journals.vue, views/JournalIssue.vue). Docs: docs/submissions.md.
export default {
  'zh-CN': {
    journals: {
      title: '电子刊物',
      empty: '暂无已发布的刊物',
      pages: '{pages} 页',
      pdf: '查看 PDF',
      units: '报送单位：{units}',
      instruct: '批示',
      placeholder: '请输入批示意见',
      send: '提交批示',
      sent: '批示已提交',
      instructions: '领导批示',
      entry: '电子刊物（信息报送）',
    },
  },
  en: {
    journals: {
      title: 'Journals',
      empty: 'No published issues',
      pages: '{pages} pages',
      pdf: 'Open PDF',
      units: 'Reported by: {units}',
      instruct: 'Instruct',
      placeholder: 'Write your instruction',
      send: 'Send instruction',
      sent: 'Instruction sent',
      instructions: 'Instructions',
      entry: 'Journals (information reports)',
    },
  },
}
