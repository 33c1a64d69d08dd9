// Joining a meeting's VideoRoom on Janus with Janus's own client library (janus.js,
// npm janus-gateway 1.1, bundled — no CDN). Docs: docs/meetings.md#the-pwa.
//
// One publisher handle sends the camera and microphone; one subscriber handle per
// other participant receives their feed. The server URLs, room, PIN and token come
// from POST /api/v1/meetings/{id}/join/; Janus refuses anyone without a token it
// knows (token_auth) and the VideoRoom refuses tokens not on the room's list.
import Janus from 'janus-gateway'
import adapter from 'webrtc-adapter'

const PLUGIN = 'janus.plugin.videoroom'
let initialised = null

function init() {
  if (!initialised) {
    initialised = new Promise((resolve) => {
      Janus.init({
        debug: false,
        dependencies: Janus.useDefaultDependencies({ adapter }),
        callback: resolve,
      })
    })
  }
  return initialised
}

export class Room {
  // hooks: onLocal(stream), onRemote(feedId, display, stream), onRemoteGone(feedId),
  //        onError(message), onClosed(), onTalking(feedId, talking)
  constructor(ticket, hooks) {
    this.ticket = ticket
    this.hooks = hooks
    this.janus = null
    this.publisher = null
    this.feedId = null
    this.privateId = null
    this.feeds = new Map() // feed id → { handle, stream, display }
    this.localStream = null
    this.screen = false
  }

  async join() {
    await init()
    const t = this.ticket
    await new Promise((resolve, reject) => {
      this.janus = new Janus({
        server: t.server,
        token: t.token,
        iceServers: t.ice_servers && t.ice_servers.length ? t.ice_servers : [],
        success: resolve,
        error: (e) => {
          reject(new Error(String(e)))
          // Lost the server after joining (network change, Wi-Fi → 4G, Janus restart):
          // the screen reconnects with a new session.
          if (this.publisher && !this.closing) this.hooks.onDisconnected && this.hooks.onDisconnected(String(e))
        },
        destroyed: () => this.hooks.onClosed && this.hooks.onClosed(),
      })
    })
    await this.attachPublisher()
  }

  attachPublisher() {
    const t = this.ticket
    return new Promise((resolve, reject) => {
      this.janus.attach({
        plugin: PLUGIN,
        opaqueId: `govdesk-${t.meeting_id}-${t.participant_id}`,
        success: (handle) => {
          this.publisher = handle
          handle.send({
            message: { request: 'join', ptype: 'publisher', room: t.room, pin: t.pin, token: t.token, display: t.display },
          })
        },
        error: (e) => reject(new Error(String(e))),
        onmessage: (msg, jsep) => {
          const event = msg.videoroom
          if (msg.error) {
            reject(new Error(msg.error))
            this.hooks.onError && this.hooks.onError(msg.error)
            return
          }
          if (event === 'joined') {
            this.feedId = msg.id
            this.privateId = msg.private_id
            this.publish()
            resolve()
          }
          if (event === 'destroyed') this.hooks.onClosed && this.hooks.onClosed()
          for (const p of msg.publishers || []) this.subscribe(p.id, p.display)
          const gone = msg.leaving || msg.unpublished
          if (gone && gone !== 'ok') this.dropFeed(gone)
          if (msg.kicked && msg.kicked === this.feedId) this.hooks.onClosed && this.hooks.onClosed()
          if (event === 'talking' || event === 'stopped-talking') {
            this.hooks.onTalking && this.hooks.onTalking(msg.id, event === 'talking')
          }
          if (jsep) this.publisher.handleRemoteJsep({ jsep })
        },
        onlocaltrack: (track, on) => {
          if (!this.localStream) this.localStream = new MediaStream()
          if (on) {
            if (!this.localStream.getTracks().includes(track)) this.localStream.addTrack(track)
          } else {
            this.localStream.removeTrack(track)
          }
          this.hooks.onLocal && this.hooks.onLocal(this.localStream)
        },
        onremotetrack: () => {},
        oncleanup: () => {},
      })
    })
  }

  publish() {
    this.publisher.createOffer({
      tracks: [
        { type: 'audio', capture: true, recv: false },
        { type: 'video', capture: true, recv: false },
      ],
      success: (jsep) => {
        this.publisher.send({ message: { request: 'configure', audio: true, video: true }, jsep })
      },
      error: (e) => this.hooks.onError && this.hooks.onError(String(e && e.message ? e.message : e)),
    })
  }

  subscribe(feedId, display) {
    if (this.feeds.has(feedId) || feedId === this.feedId) return
    const t = this.ticket
    const entry = { handle: null, stream: new MediaStream(), display }
    this.feeds.set(feedId, entry)
    this.janus.attach({
      plugin: PLUGIN,
      opaqueId: `govdesk-${t.meeting_id}-${t.participant_id}`,
      success: (handle) => {
        entry.handle = handle
        handle.send({
          message: {
            request: 'join', ptype: 'subscriber', room: t.room, pin: t.pin, token: t.token,
            streams: [{ feed: feedId }], private_id: this.privateId,
          },
        })
      },
      error: (e) => this.hooks.onError && this.hooks.onError(String(e)),
      onmessage: (msg, jsep) => {
        if (msg.error) return
        if (jsep) {
          entry.handle.createAnswer({
            jsep,
            tracks: [{ type: 'data' }],
            success: (answer) => entry.handle.send({ message: { request: 'start', room: t.room }, jsep: answer }),
            error: (e) => this.hooks.onError && this.hooks.onError(String(e)),
          })
        }
      },
      onremotetrack: (track, mid, on) => {
        if (on) {
          if (!entry.stream.getTracks().some((x) => x.id === track.id)) entry.stream.addTrack(track)
        } else {
          for (const x of entry.stream.getTracks()) if (x.id === track.id) entry.stream.removeTrack(x)
        }
        this.hooks.onRemote && this.hooks.onRemote(feedId, display, entry.stream)
      },
      oncleanup: () => {},
    })
  }

  dropFeed(feedId) {
    const entry = this.feeds.get(feedId)
    if (!entry) return
    this.feeds.delete(feedId)
    if (entry.handle) entry.handle.detach()
    this.hooks.onRemoteGone && this.hooks.onRemoteGone(feedId)
  }

  toggleAudio() {
    if (!this.publisher) return false
    if (this.publisher.isAudioMuted()) this.publisher.unmuteAudio()
    else this.publisher.muteAudio()
    return this.publisher.isAudioMuted()
  }

  toggleVideo() {
    if (!this.publisher) return false
    if (this.publisher.isVideoMuted()) this.publisher.unmuteVideo()
    else this.publisher.muteVideo()
    return this.publisher.isVideoMuted()
  }

  // Screen share (a desktop browser): the video track is replaced in place.
  async toggleScreen() {
    if (!this.publisher) return false
    const video = (this.publisher.getLocalTracks?.() || []).find((x) => x.type === 'video')
    const mid = video && video.mid
    this.screen = !this.screen
    await this.publisher.replaceTracks({
      tracks: [{ type: this.screen ? 'screen' : 'video', mid, capture: true }],
    })
    return this.screen
  }

  // Frames decoded per remote feed, from getStats() of the subscriber connections:
  // the meeting screen shows it as connection quality (and the browser test reads it).
  async framesDecoded() {
    const result = {}
    for (const [feedId, entry] of this.feeds) {
      const pc = entry.handle && entry.handle.webrtcStuff && entry.handle.webrtcStuff.pc
      let frames = 0
      if (pc) {
        const stats = await pc.getStats()
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.mediaType === 'video')) frames += s.framesDecoded || 0
        })
      }
      result[feedId] = frames
    }
    return result
  }

  leave() {
    this.closing = true
    if (this.publisher) {
      try {
        this.publisher.send({ message: { request: 'leave' } })
      } catch {
        /* closing anyway */
      }
    }
    if (this.janus) this.janus.destroy({ cleanupHandles: true })
    this.janus = null
    this.publisher = null
    this.feeds.clear()
  }
}
