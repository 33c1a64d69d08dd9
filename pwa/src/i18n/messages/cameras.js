// Messages of the video resources screens (视频资源). Docs: docs/integrations.md#video-pwa.
// Collected by pwa/src/i18n/index.js with every other area (docs/pwa.md#languages).
export default {
  'zh-CN': {
    cameras: {
      title: '视频资源',
      entry: '视频资源',
      empty: '暂无可查看的摄像头',
      loadFailed: '未能取得摄像头列表',
      type: { tianwang: '天网', traffic: '交通', city: '城市' },
      online: '在线',
      offline: '离线',
      retired: '已停用',
      owner: '权属单位',
      address: '位置',
      play: '播放',
      playing: '正在播放',
      playFailed: '无法播放',
      notSupported: '此浏览器不能播放该视频流',
      expired: '播放地址已过期，请重新打开',
      audited: '查看记录将被保存（谁、何时、多长时间）',
    },
  },
  en: {
    cameras: {
      title: 'Video resources',
      entry: 'Video resources',
      empty: 'No cameras you may view',
      loadFailed: 'Could not load the cameras',
      type: { tianwang: 'Skynet', traffic: 'Traffic', city: 'City' },
      online: 'Online',
      offline: 'Offline',
      retired: 'Retired',
      owner: 'Owner',
      address: 'Location',
      play: 'Play',
      playing: 'Playing',
      playFailed: 'Cannot play',
      notSupported: 'This browser cannot play this stream',
      expired: 'The play link has expired; open the camera again',
      audited: 'Viewing is recorded (who, when, how long)',
    },
  },
}
