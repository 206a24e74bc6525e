//! Output elements: bytes, text or JSON in a buffer from the host's allocator.

use serde::Serialize;

use crate::backend;
use crate::element::ElementMeta;
use crate::{Error, Result};

/// MIME type [`Output::text`] sets.
///
/// ```
/// let out = torvyn_guest::Output::text("hi")?;
/// assert_eq!(out.content_type(), torvyn_guest::TEXT_PLAIN);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// MIME type [`Output::json`] sets.
///
/// ```
/// let out = torvyn_guest::Output::json(&[1, 2])?;
/// assert_eq!(out.content_type(), torvyn_guest::APPLICATION_JSON);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub const APPLICATION_JSON: &str = "application/json";
/// MIME type [`Output::bytes`] sets when given an empty content type.
///
/// ```
/// let out = torvyn_guest::Output::bytes([1, 2, 3], "")?;
/// assert_eq!(out.content_type(), torvyn_guest::OCTET_STREAM);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub const OCTET_STREAM: &str = "application/octet-stream";

/// An element a component produces; its payload moves to the host.
///
/// Every constructor allocates through the contract's `buffer-allocator` with
/// the exact size as capacity hint (an in-memory allocator in native tests, see
/// [`crate::testing::allocations`]). Sequence and timestamp default to 0: the
/// runtime assigns them.
///
/// ```
/// use torvyn_guest::Output;
/// let out = Output::json(&serde_json::json!({ "ok": true }))?;
/// assert_eq!(out.content_type(), "application/json");
/// assert_eq!(out.to_text()?, r#"{"ok":true}"#);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub struct Output {
    pub(crate) meta: ElementMeta,
    pub(crate) payload: backend::FrozenBuffer,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Output {
    /// An output holding `bytes` with `content_type` (empty = `application/octet-stream`).
    ///
    /// # Errors
    /// A buffer error from the host's allocator.
    pub fn bytes(bytes: impl AsRef<[u8]>, content_type: &str) -> Result<Self> {
        let bytes = bytes.as_ref();
        let content_type = if content_type.is_empty() {
            OCTET_STREAM
        } else {
            content_type
        };
        let mut builder = Self::builder(bytes.len() as u64)?.content_type(content_type);
        builder.write(bytes)?;
        Ok(builder.finish())
    }

    /// An output holding UTF-8 `text` (`text/plain; charset=utf-8`).
    ///
    /// # Errors
    /// A buffer error from the host's allocator.
    pub fn text(text: impl AsRef<str>) -> Result<Self> {
        Self::bytes(text.as_ref().as_bytes(), TEXT_PLAIN)
    }

    /// An output holding `value` serialized as JSON (`application/json`).
    ///
    /// # Errors
    /// [`ErrorKind::Internal`](crate::ErrorKind::Internal) if serialization fails,
    /// or a buffer error.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("cannot serialize output as JSON: {e}")))?;
        Self::bytes(bytes, APPLICATION_JSON)
    }

    /// A copy of `element` (payload, content type, sequence and timestamp) made by
    /// the host (`buffer-allocator.clone-into-mutable`): the payload is not read
    /// into the component. Use it to pass an element on unchanged or to append
    /// to it with [`Output::builder_from`].
    ///
    /// It counts as a clone, not an allocation, both natively
    /// ([`testing::take_clones`](crate::testing::take_clones)) and on the
    /// reference host (`clones` and `bytes_cloned` in its stats).
    ///
    /// ```
    /// use torvyn_guest::Output;
    /// use torvyn_guest::testing::{self, ElementBuilder};
    ///
    /// let element = ElementBuilder::new().text("abc").sequence(4).build();
    /// let out = Output::copy_of(&element)?;
    /// assert_eq!((out.to_text()?.as_str(), out.meta().sequence), ("abc", 4));
    /// assert_eq!(testing::take_clones(), [3]);
    /// assert!(testing::take_allocations().is_empty());
    /// # Ok::<(), torvyn_guest::Error>(())
    /// ```
    ///
    /// # Errors
    /// A buffer error from the host's allocator.
    pub fn copy_of(element: &crate::Element<'_>) -> Result<Self> {
        Ok(Self::builder_from(element)?.finish())
    }

    /// Like [`Output::copy_of`], but returns the mutable copy to append to.
    ///
    /// # Errors
    /// A buffer error from the host's allocator.
    pub fn builder_from(element: &crate::Element<'_>) -> Result<OutputBuilder> {
        use crate::element::PayloadSource;
        let buffer = match element.payload().source() {
            PayloadSource::Memory { bytes, .. } => backend::copy_into_mutable(bytes)?,
            PayloadSource::Host(source) => backend::clone_into_mutable(source)?,
        };
        Ok(OutputBuilder {
            meta: element.meta().clone(),
            buffer,
        })
    }

    /// A buffer of at least `capacity_hint` bytes to fill piece by piece.
    ///
    /// # Errors
    /// A buffer error from the host's allocator.
    pub fn builder(capacity_hint: u64) -> Result<OutputBuilder> {
        Ok(OutputBuilder {
            meta: ElementMeta::default(),
            buffer: backend::allocate(capacity_hint)?,
        })
    }

    /// Set the (advisory) sequence number.
    #[must_use]
    pub fn with_sequence(mut self, sequence: u64) -> Self {
        self.meta.sequence = sequence;
        self
    }

    /// Set the (advisory) timestamp in nanoseconds.
    #[must_use]
    pub fn with_timestamp_ns(mut self, timestamp_ns: u64) -> Self {
        self.meta.timestamp_ns = timestamp_ns;
        self
    }

    /// The metadata that goes with the payload.
    pub fn meta(&self) -> &ElementMeta {
        &self.meta
    }

    /// MIME type of the payload.
    pub fn content_type(&self) -> &str {
        &self.meta.content_type
    }

    /// A copy of the payload (reads the host buffer on wasm; meant for tests).
    pub fn to_vec(&self) -> Vec<u8> {
        self.payload.read_all()
    }

    /// The payload as text (meant for tests).
    ///
    /// # Errors
    /// If the payload is not UTF-8.
    pub fn to_text(&self) -> Result<String> {
        Ok(String::from_utf8(self.to_vec())?)
    }

    /// The payload parsed as JSON (meant for tests).
    ///
    /// # Errors
    /// If the payload is not valid JSON for `T`.
    pub fn to_json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_slice(&self.to_vec())?)
    }
}

/// A buffer being filled; [`OutputBuilder::finish`] turns it into an [`Output`].
///
/// ```
/// use torvyn_guest::Output;
/// let mut builder = Output::builder(7)?.content_type("application/x-framed");
/// builder.write(&3u32.to_be_bytes())?;
/// builder.write(b"abc")?;
/// assert_eq!(builder.capacity(), 7);
/// assert!(builder.write(b"!").is_err(), "past the capacity");
/// let out = builder.finish();
/// assert_eq!(out.to_vec(), [0, 0, 0, 3, b'a', b'b', b'c']);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub struct OutputBuilder {
    meta: ElementMeta,
    buffer: backend::MutableBuffer,
}

impl OutputBuilder {
    /// Set the MIME type of the output.
    #[must_use]
    pub fn content_type(mut self, content_type: &str) -> Self {
        content_type.clone_into(&mut self.meta.content_type);
        self
    }

    /// Append `bytes`.
    ///
    /// # Errors
    /// [`BufferError::CapacityExceeded`](crate::BufferError) (as an internal error)
    /// when the bytes do not fit the capacity.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.append(bytes).map_err(Error::from)
    }

    /// Bytes that fit in total.
    pub fn capacity(&self) -> u64 {
        self.buffer.capacity()
    }

    /// Freeze the buffer into an output.
    pub fn finish(self) -> Output {
        let payload = self.buffer.finish(&self.meta.content_type);
        Output {
            meta: self.meta,
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn constructors_allocate_the_exact_size() {
        testing::take_allocations();
        let out = Output::text("hello").unwrap().with_sequence(3);
        assert_eq!(out.content_type(), TEXT_PLAIN);
        assert_eq!(out.meta().sequence, 3);
        assert_eq!(out.to_vec(), b"hello");
        let json = Output::json(&[1, 2]).unwrap();
        assert_eq!(json.to_json::<Vec<u8>>().unwrap(), [1, 2]);
        assert_eq!(testing::take_allocations(), [5, 5]);
    }

    #[test]
    fn copy_of_keeps_meta_and_payload_without_reading() {
        let element = testing::ElementBuilder::new()
            .text("abc")
            .sequence(4)
            .build();
        testing::take_allocations();
        let out = Output::copy_of(&element).unwrap();
        assert_eq!(out.to_vec(), b"abc");
        assert_eq!((out.meta().sequence, out.content_type()), (4, TEXT_PLAIN));
        assert_eq!(element.payload().read_stats().reads, 0);
        // A clone, as the reference host counts it (`clones`, `bytes_cloned`).
        assert_eq!(testing::take_allocations(), [] as [u64; 0]);
        assert_eq!(testing::take_clones(), [3]);
    }

    #[test]
    fn builder_from_is_a_clone_and_fails_like_an_allocation() {
        let element = testing::ElementBuilder::new().text("ab").build();
        testing::fail_next_allocation("no memory");
        let err = Output::builder_from(&element).err().expect("refused");
        assert_eq!(err.kind(), crate::ErrorKind::Unavailable);
        assert!(testing::take_clones().is_empty());
        let mut builder = Output::builder_from(&element).unwrap();
        assert_eq!(builder.capacity(), 2);
        assert!(
            builder.write(b"c").is_err(),
            "a clone's capacity is its size"
        );
        assert_eq!(testing::take_clones(), [2]);
        assert!(testing::take_allocations().is_empty());
    }

    #[test]
    fn builder_respects_capacity_and_allocation_failures() {
        let mut builder = Output::builder(2).unwrap();
        builder.write(b"ab").unwrap();
        let err = builder.write(b"c").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Internal);
        testing::fail_next_allocation("out of memory");
        let err = Output::text("x").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unavailable);
        assert!(err.message().contains("out of memory"));
        assert!(Output::text("x").is_ok());
    }
}
