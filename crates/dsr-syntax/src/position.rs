//! Byte offsets ⇄ editor positions.
//!
//! LSP positions are (line, character) where lines end at `\n`, `\r\n` or `\r`, and `character` counts UTF-8 bytes,
//! UTF-16 code units or Unicode scalar values depending on the negotiated encoding. The rope is built with
//! ropey's `cr_lines` feature and without `unicode_lines`, so its line breaks are exactly LSP's.

use ropey::Rope;
use thiserror::Error;

/// The unit of [`Position::character`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum PositionEncoding {
    Utf8,
    /// The LSP default.
    #[default]
    Utf16,
    Utf32,
}

/// A zero-based line and a zero-based column in the unit of a [`PositionEncoding`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub const fn new(line: u32, character: u32) -> Self {
        Self { line, character }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PositionError {
    #[error("line {line} is past the end of the document ({line_count} lines)")]
    LineOutOfRange { line: u32, line_count: usize },
    #[error("byte offset {offset} is past the end of the document ({len} bytes)")]
    OffsetOutOfRange { offset: usize, len: usize },
    #[error("byte offset {offset} is inside a multi-byte character")]
    NotACharBoundary { offset: usize },
    #[error("position {line}:{character} splits a character")]
    InsideCharacter { line: u32, character: u32 },
}

/// The position of a byte offset. The offset must lie on a character boundary, at most at the end of the text.
/// An offset between the `\r` and `\n` of a CRLF has no position of its own and maps to the `\r`'s line end.
pub fn offset_to_position(
    rope: &Rope,
    offset: usize,
    encoding: PositionEncoding,
) -> Result<Position, PositionError> {
    let len = rope.len_bytes();
    if offset > len {
        return Err(PositionError::OffsetOutOfRange { offset, len });
    }
    let char_index = rope.byte_to_char(offset);
    if rope.char_to_byte(char_index) != offset {
        return Err(PositionError::NotACharBoundary { offset });
    }
    let line = rope.byte_to_line(offset);
    let line_start_byte = rope.line_to_byte(line);
    let line_start_char = rope.byte_to_char(line_start_byte);
    let character = match encoding {
        PositionEncoding::Utf8 => offset - line_start_byte,
        PositionEncoding::Utf16 => {
            rope.char_to_utf16_cu(char_index) - rope.char_to_utf16_cu(line_start_char)
        }
        PositionEncoding::Utf32 => char_index - line_start_char,
    };
    Ok(Position::new(to_u32(line), to_u32(character)))
}

/// The byte offset of a position. A `character` past the end of its line means the end of the line (as the LSP
/// specification asks); a line past the last one, or a column that splits a character, is an error.
pub fn position_to_offset(
    rope: &Rope,
    position: Position,
    encoding: PositionEncoding,
) -> Result<usize, PositionError> {
    let line_index = position.line as usize;
    let line_count = rope.len_lines();
    if line_index >= line_count {
        return Err(PositionError::LineOutOfRange {
            line: position.line,
            line_count,
        });
    }
    let line_start = rope.line_to_byte(line_index);
    let line = rope.line(line_index);
    let content_bytes = line.len_bytes() - line_break_len(&line);
    let wanted = position.character as usize;
    let mut units = 0usize;
    let mut bytes = 0usize;
    for ch in line.chars() {
        if bytes >= content_bytes || units >= wanted {
            break;
        }
        let width = match encoding {
            PositionEncoding::Utf8 => ch.len_utf8(),
            PositionEncoding::Utf16 => ch.len_utf16(),
            PositionEncoding::Utf32 => 1,
        };
        if units + width > wanted {
            return Err(PositionError::InsideCharacter {
                line: position.line,
                character: position.character,
            });
        }
        units += width;
        bytes += ch.len_utf8();
    }
    Ok(line_start + bytes)
}

/// The length in bytes of the line break that ends `line` (0 for the last line).
fn line_break_len(line: &ropey::RopeSlice<'_>) -> usize {
    let len = line.len_chars();
    if len == 0 {
        return 0;
    }
    match line.char(len - 1) {
        '\n' if len >= 2 && line.char(len - 2) == '\r' => 2,
        '\n' | '\r' => 1,
        _ => 0,
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// One-based line and column for humans (terminal output, SARIF regions): the column counts Unicode scalar values.
pub fn line_column_1based(rope: &Rope, offset: usize) -> (usize, usize) {
    let offset = offset.min(rope.len_bytes());
    match offset_to_position(rope, offset, PositionEncoding::Utf32) {
        Ok(position) => (position.line as usize + 1, position.character as usize + 1),
        Err(_) => {
            let line = rope.byte_to_line(offset);
            (line + 1, 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::*;

    fn round_trip(text: &str, encoding: PositionEncoding) {
        let rope = Rope::from_str(text);
        // An offset between `\r` and `\n` has no position of its own: LSP lines end after the pair.
        let between_cr_lf = |offset: usize| {
            offset > 0 && text[..offset].ends_with('\r') && text[offset..].starts_with('\n')
        };
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            if between_cr_lf(offset) {
                continue;
            }
            let position = offset_to_position(&rope, offset, encoding).unwrap();
            assert_eq!(
                position_to_offset(&rope, position, encoding).unwrap(),
                offset,
                "{text:?} at {offset} via {position:?}"
            );
        }
    }

    #[test]
    fn round_trips_in_every_encoding() {
        for text in [
            "",
            "a",
            "héllo\nwörld",
            "x😀y\r\nz\rw\n",
            "\n\n",
            "😀😀\r\n😀",
        ] {
            for encoding in [Utf8, Utf16, Utf32] {
                round_trip(text, encoding);
            }
        }
    }

    #[test]
    fn astral_plane_characters_count_two_utf16_units() {
        let rope = Rope::from_str("a😀b");
        assert_eq!(
            offset_to_position(&rope, 5, Utf16).unwrap(),
            Position::new(0, 3)
        );
        assert_eq!(
            offset_to_position(&rope, 5, Utf32).unwrap(),
            Position::new(0, 2)
        );
        assert_eq!(
            offset_to_position(&rope, 5, Utf8).unwrap(),
            Position::new(0, 5)
        );
        assert_eq!(
            position_to_offset(&rope, Position::new(0, 2), Utf16),
            Err(PositionError::InsideCharacter {
                line: 0,
                character: 2
            })
        );
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let rope = Rope::from_str("ab\r\ncd\ref");
        assert_eq!(
            offset_to_position(&rope, 4, Utf16).unwrap(),
            Position::new(1, 0)
        );
        assert_eq!(
            offset_to_position(&rope, 7, Utf16).unwrap(),
            Position::new(2, 0)
        );
        // A column past the end of a line stops before its line break.
        assert_eq!(
            position_to_offset(&rope, Position::new(0, 99), Utf16).unwrap(),
            2
        );
        assert_eq!(
            position_to_offset(&rope, Position::new(1, 99), Utf8).unwrap(),
            6
        );
    }

    #[test]
    fn out_of_range_input_is_an_error() {
        let rope = Rope::from_str("a\n");
        assert!(matches!(
            position_to_offset(&rope, Position::new(2, 0), Utf16),
            Err(PositionError::LineOutOfRange { .. })
        ));
        assert_eq!(
            position_to_offset(&rope, Position::new(1, 0), Utf16).unwrap(),
            2
        );
        assert!(matches!(
            offset_to_position(&rope, 3, Utf16),
            Err(PositionError::OffsetOutOfRange { .. })
        ));
        let rope = Rope::from_str("é");
        assert_eq!(
            offset_to_position(&rope, 1, Utf16),
            Err(PositionError::NotACharBoundary { offset: 1 })
        );
    }
}
