"""Video meetings (视频会议): scheduling, notices, sign-in, attendance, materials,
minutes, and rooms on Janus WebRTC Server. Docs: docs/meetings.md."""
