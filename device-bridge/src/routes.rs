//! The bridge's resources and how a request's path, method and query select one.

use coap_lite::{CoapOption, Packet, RequestType};
use domain::PileId;

/// A resource the bridge serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `/.well-known/core`: the RFC 6690 resource list.
    WellKnownCore,
    /// `/r/<pile>`: where a pile POSTs its reports.
    Report(PileId),
    /// `/h/<pile>`: the pile's hold, to GET or observe.
    Hold(PileId),
}

/// Why no resource matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No such path (4.04).
    NotFound,
    /// The path exists but not for this method (4.05); says which method to use.
    MethodNotAllowed(&'static str),
}

/// The RFC 6690 link-format description of the resources.
pub const WELL_KNOWN_CORE: &str =
    "</r>;rt=\"chargebay.report\";if=\"core.p\";ct=\"50 60\";title=\"POST /r/<pile>?k=<key>\",\
</h>;rt=\"chargebay.hold\";if=\"core.s\";obs;ct=50;title=\"GET /h/<pile>?k=<key>\"";

/// Selects the resource for `packet`'s path and method.
pub fn route(packet: &Packet, method: RequestType) -> Result<Resource, RouteError> {
    let segments: Vec<&[u8]> = packet
        .get_option(CoapOption::UriPath)
        .map(|l| l.iter().map(Vec::as_slice).collect())
        .unwrap_or_default();
    let pile = |seg: &[u8]| -> Option<PileId> {
        std::str::from_utf8(seg)
            .ok()?
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(PileId)
    };
    match segments.as_slice() {
        [b".well-known", b"core"] => match method {
            RequestType::Get => Ok(Resource::WellKnownCore),
            _ => Err(RouteError::MethodNotAllowed("GET")),
        },
        [b"r", id] => {
            let id = pile(id).ok_or(RouteError::NotFound)?;
            match method {
                RequestType::Post | RequestType::Put => Ok(Resource::Report(id)),
                _ => Err(RouteError::MethodNotAllowed("POST")),
            }
        }
        [b"h", id] => {
            let id = pile(id).ok_or(RouteError::NotFound)?;
            match method {
                RequestType::Get => Ok(Resource::Hold(id)),
                _ => Err(RouteError::MethodNotAllowed("GET")),
            }
        }
        _ => Err(RouteError::NotFound),
    }
}

/// The value of the `k=` query parameter (the pile's key), if present.
pub fn key_param(packet: &Packet) -> Option<String> {
    packet
        .get_option(CoapOption::UriQuery)?
        .iter()
        .filter_map(|q| std::str::from_utf8(q).ok())
        .find_map(|q| q.strip_prefix("k=").map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(path: &[&str], query: &[&str]) -> Packet {
        let mut p = Packet::new();
        for s in path {
            p.add_option(CoapOption::UriPath, s.as_bytes().to_vec());
        }
        for q in query {
            p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
        }
        p
    }

    #[test]
    fn routes_by_path_and_method() {
        assert_eq!(
            route(&packet(&["r", "17"], &[]), RequestType::Post),
            Ok(Resource::Report(PileId(17)))
        );
        assert_eq!(
            route(&packet(&["r", "17"], &[]), RequestType::Put),
            Ok(Resource::Report(PileId(17)))
        );
        assert_eq!(
            route(&packet(&["r", "17"], &[]), RequestType::Get),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            route(&packet(&["h", "3"], &[]), RequestType::Get),
            Ok(Resource::Hold(PileId(3)))
        );
        assert_eq!(
            route(&packet(&["h", "3"], &[]), RequestType::Delete),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            route(&packet(&[".well-known", "core"], &[]), RequestType::Get),
            Ok(Resource::WellKnownCore)
        );
        assert_eq!(
            route(&packet(&["r", "x"], &[]), RequestType::Post),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route(&packet(&["r", "-1"], &[]), RequestType::Post),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route(&packet(&["r"], &[]), RequestType::Post),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route(&packet(&[], &[]), RequestType::Get),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn key_comes_from_query() {
        assert_eq!(
            key_param(&packet(&["r", "1"], &["x=1", "k=abc"])).as_deref(),
            Some("abc")
        );
        assert_eq!(key_param(&packet(&["r", "1"], &["x=1"])), None);
    }
}
