// 通讯录 (views/Contacts.vue).
export default {
  'zh-CN': {
    contacts: { title: '通讯录', placeholder: '姓名、拼音首字母、单位或岗位', office: '办公', mobile: '手机' },
  },
  en: {
    contacts: { title: 'Contacts', placeholder: 'Name, pinyin initials, unit or post', office: 'Office', mobile: 'Mobile' },
  },
}
