//! What an SDP offer must contain before the host answers it, with errors that say what is
//! wrong. str0m parses the SDP itself; this adds the host's own requirements (a video m-line the
//! client can receive, offering H.264 with packetization-mode 1) so a bad offer gets a clear
//! message instead of an answer without video.

use thiserror::Error;

/// Why an offer was refused (maps to an HTTP status in the signaling endpoint).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignalError {
    /// The offer is not SDP str0m can parse, or is missing a required part.
    #[error("malformed SDP offer: {0}")]
    Malformed(String),
    /// The offer has no video m-line that the client can receive on.
    #[error("{0}")]
    NoVideo(String),
    /// The offer's video m-line offers no codec the host sends.
    #[error("{0}")]
    UnsupportedCodec(String),
    /// Every peer slot is taken.
    #[error("too many WebRTC sessions ({0} is the limit); try again later")]
    TooManyPeers(usize),
    /// The WebRTC thread has stopped.
    #[error("the WebRTC transport is not running")]
    Stopped,
}

impl SignalError {
    /// The HTTP status for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            SignalError::Malformed(_) | SignalError::NoVideo(_) => 400,
            // 406: the offer is well formed but nothing in it is acceptable.
            SignalError::UnsupportedCodec(_) => 406,
            SignalError::TooManyPeers(_) | SignalError::Stopped => 503,
        }
    }
}

/// One `m=` section of an SDP offer, as far as the host cares.
#[derive(Debug, Default)]
struct Section {
    kind: String,
    port_zero: bool,
    mid: Option<String>,
    direction: Option<String>,
    /// payload type → codec name (upper case) from `a=rtpmap`.
    rtpmap: Vec<(String, String)>,
    /// payload type → fmtp parameters.
    fmtp: Vec<(String, String)>,
}

impl Section {
    /// Payload types offered for H.264 with packetization-mode=1 and a Baseline or Constrained
    /// Baseline profile (what OpenH264 produces and str0m is configured to send).
    fn h264_pm1_baseline(&self) -> Vec<&str> {
        self.rtpmap
            .iter()
            .filter(|(_, codec)| codec == "H264")
            .filter(|(pt, _)| {
                let params = self.fmtp.iter().find(|(p, _)| p == pt).map(|(_, f)| f.to_ascii_lowercase());
                let Some(params) = params else { return false };
                let pm1 = params.split(';').any(|kv| kv.trim() == "packetization-mode=1");
                let baseline = params
                    .split(';')
                    .filter_map(|kv| kv.trim().strip_prefix("profile-level-id="))
                    .any(|id| id.len() == 6 && id.starts_with("42"));
                pm1 && baseline
            })
            .map(|(pt, _)| pt.as_str())
            .collect()
    }
}

fn sections(sdp: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            let mut parts = m.split_whitespace();
            let kind = parts.next().unwrap_or_default().to_string();
            let port_zero = parts.next() == Some("0");
            out.push(Section { kind, port_zero, ..Default::default() });
            continue;
        }
        let Some(section) = out.last_mut() else { continue };
        if let Some(rest) = line.strip_prefix("a=rtpmap:") {
            let mut parts = rest.splitn(2, ' ');
            let pt = parts.next().unwrap_or_default().to_string();
            let codec = parts.next().unwrap_or_default().split('/').next().unwrap_or_default().to_ascii_uppercase();
            section.rtpmap.push((pt, codec));
        } else if let Some(rest) = line.strip_prefix("a=fmtp:") {
            let mut parts = rest.splitn(2, ' ');
            let pt = parts.next().unwrap_or_default().to_string();
            section.fmtp.push((pt, parts.next().unwrap_or_default().to_string()));
        } else if let Some(mid) = line.strip_prefix("a=mid:") {
            section.mid = Some(mid.trim().to_string());
        } else if let Some(dir @ ("sendrecv" | "sendonly" | "recvonly" | "inactive")) = line.strip_prefix("a=") {
            section.direction = Some(dir.to_string());
        }
    }
    out
}

/// Checks an offer's shape before str0m sees it: it must be SDP (`v=0` first), have a video
/// m-line the client receives on (`recvonly` or `sendrecv`), offering H.264 with
/// packetization-mode=1 in a Baseline/Constrained Baseline profile. Returns the `a=mid` of each
/// such video m-line.
pub fn check_offer(sdp: &str) -> Result<Vec<String>, SignalError> {
    if !sdp.trim_start().starts_with("v=0") {
        return Err(SignalError::Malformed("an SDP offer starts with `v=0`".into()));
    }
    let all = sections(sdp);
    if all.is_empty() {
        return Err(SignalError::Malformed("the offer has no m= lines".into()));
    }
    let videos: Vec<&Section> = all.iter().filter(|s| s.kind == "video" && !s.port_zero).collect();
    if videos.is_empty() {
        return Err(SignalError::NoVideo(
            "the offer has no video m-line; add a receive-only video transceiver \
             (RTCPeerConnection.addTransceiver('video', {direction: 'recvonly'}))"
                .into(),
        ));
    }
    let receivable: Vec<&&Section> = videos
        .iter()
        .filter(|s| matches!(s.direction.as_deref(), None | Some("recvonly") | Some("sendrecv")))
        .collect();
    if receivable.is_empty() {
        return Err(SignalError::NoVideo(
            "the offer's video m-line does not receive (direction must be recvonly or sendrecv)".into(),
        ));
    }
    if receivable.iter().all(|s| s.h264_pm1_baseline().is_empty()) {
        let offered: Vec<String> = receivable
            .iter()
            .flat_map(|s| s.rtpmap.iter().map(|(_, c)| c.clone()))
            .filter(|c| !matches!(c.as_str(), "RTX" | "RED" | "ULPFEC" | "FLEXFEC-03"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(SignalError::UnsupportedCodec(format!(
            "the offer's video m-line offers no codec ovhost sends: ovhost sends H.264 Constrained Baseline \
             with packetization-mode=1 (profile-level-id 42e01f); offered: {}",
            if offered.is_empty() { "nothing".to_string() } else { offered.join(", ") }
        )));
    }
    let mids: Vec<String> =
        receivable.iter().filter(|s| !s.h264_pm1_baseline().is_empty()).filter_map(|s| s.mid.clone()).collect();
    if mids.is_empty() {
        return Err(SignalError::Malformed("the video m-line has no a=mid (BUNDLE needs one)".into()));
    }
    Ok(mids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIDEO_H264: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:v0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n\
        a=rtpmap:97 H264/90000\r\na=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

    #[test]
    fn accepts_recvonly_h264_pm1() {
        assert_eq!(check_offer(VIDEO_H264), Ok(vec!["v0".to_string()]));
    }

    #[test]
    fn refuses_what_the_host_cannot_answer() {
        assert!(matches!(check_offer("hello"), Err(SignalError::Malformed(_))));
        let audio = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        assert!(matches!(check_offer(audio), Err(SignalError::NoVideo(_))));
        let sendonly = VIDEO_H264.replace("a=recvonly", "a=sendonly");
        assert!(matches!(check_offer(&sendonly), Err(SignalError::NoVideo(_))));
        let vp8_only = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n";
        let err = check_offer(vp8_only).unwrap_err();
        assert_eq!(err.http_status(), 406);
        assert!(err.to_string().contains("offered: VP8"), "{err}");
        let pm0 = VIDEO_H264.replace("packetization-mode=1", "packetization-mode=0");
        assert!(matches!(check_offer(&pm0), Err(SignalError::UnsupportedCodec(_))));
        let high = VIDEO_H264.replace("42e01f", "64001f");
        assert!(matches!(check_offer(&high), Err(SignalError::UnsupportedCodec(_))));
    }
}
