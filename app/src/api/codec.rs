//! The server functions' response encoding: JSON, as `server_fn`'s own `Json`, but decoded
//! in the browser from text, the way resources decode the data the server rendered them
//! with. Every response type then has one JSON deserializer in the WASM bundle instead of
//! two (`serde_json` instantiates one per input kind: `&str` and `&[u8]`).

use leptos::server_fn::{
    codec::{JsonEncoding, Post},
    ContentType, Decodes, Encodes, Format, FormatType,
};
use serde::{de::DeserializeOwned, Serialize};

/// `POST` arguments as usual, and receive the response as JSON text.
pub type JsonText = Post<JsonTextEncoding>;

/// JSON in the body, decoded as text (see the module docs).
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = <JsonEncoding as ContentType>::CONTENT_TYPE;
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}
