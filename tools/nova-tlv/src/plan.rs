// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Reading a chip's Debian files and converting them, in memory, into the files to write.
//!
//! Nothing here writes: a [`Plan`] is complete (every input read and checked, every output
//! built) before [`crate::output`] writes anything, so a bad input never leaves partial output.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::chips::{Chipset, TlvKind, GSP_IMAGE_FILE};
use crate::convert::{self, ConvertError};
use crate::error::Error;

/// Largest input file read (the 570.144 GSP-RM image is 61 MiB).
const MAX_INPUT: u64 = 1 << 30;

/// The GSP-RM image of one `gsp-<version>.bin` file, shared by the chips that use it.
#[derive(Debug)]
pub struct GspImage {
    /// The input file, with symbolic links resolved.
    pub source: PathBuf,
    file: Vec<u8>,
    range: Range<usize>,
}

impl GspImage {
    /// The image bytes (the `.fwimage` section).
    pub fn bytes(&self) -> &[u8] {
        self.file.get(self.range.clone()).unwrap_or(&[])
    }
}

/// The contents of an output file.
#[derive(Clone, Debug)]
pub enum Content {
    /// A TLV file.
    Tlv(Vec<u8>),
    /// `gsp.bin`, shared by every chip converted from the same input.
    Image(Rc<GspImage>),
}

impl Content {
    /// The bytes to write.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Tlv(b) => b,
            Self::Image(i) => i.bytes(),
        }
    }

    /// Whether two contents are the same bytes.
    pub fn same_as(&self, other: &Content) -> bool {
        match (self, other) {
            (Self::Image(a), Self::Image(b)) if Rc::ptr_eq(a, b) => true,
            _ => self.bytes() == other.bytes(),
        }
    }
}

/// One file to write.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The chip it is for.
    pub chip: Chipset,
    /// Path relative to the output directory (`nvidia/<chip>/gsp/<name>`).
    pub rel_path: PathBuf,
    /// The file's contents.
    pub content: Content,
}

/// Every file to write, in order.
pub type Plan = Vec<Planned>;

/// Reads and converts Debian firmware files.
#[derive(Debug)]
pub struct Converter {
    firmware_dir: PathBuf,
    version: String,
    images: HashMap<PathBuf, Rc<GspImage>>,
}

/// Reads `path`, an input needed for `needed_for`.
fn read_input(path: &Path, needed_for: &str, version: &str) -> Result<Vec<u8>, Error> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::MissingInput {
                path: path.to_path_buf(),
                needed_for: needed_for.to_string(),
                version: version.to_string(),
                dangling: fs::symlink_metadata(path).is_ok(),
            })
        }
        Err(e) => return Err(Error::io(path, "read", e)),
    };
    if !meta.is_file() {
        return Err(Error::BadInput {
            path: path.to_path_buf(),
            reason: "not a regular file".to_string(),
        });
    }
    if meta.len() > MAX_INPUT {
        return Err(Error::BadInput {
            path: path.to_path_buf(),
            reason: format!("{} bytes is too large for a firmware file", meta.len()),
        });
    }
    fs::read(path).map_err(|e| Error::io(path, "read", e))
}

impl Converter {
    /// A converter reading `<firmware_dir>/nvidia/<chip>/gsp/<name>-<version>.bin`.
    pub fn new(firmware_dir: &Path, version: &str) -> Result<Self, Error> {
        if version.is_empty()
            || !version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        {
            return Err(Error::Usage(format!(
                "invalid firmware version \"{version}\" (letters, digits, '.', '-', '_')"
            )));
        }
        match fs::metadata(firmware_dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::BadInput {
                    path: firmware_dir.to_path_buf(),
                    reason: "the firmware directory is not a directory".to_string(),
                })
            }
            Err(e) => return Err(Error::io(firmware_dir, "open the firmware directory", e)),
        }
        Ok(Self {
            firmware_dir: firmware_dir.to_path_buf(),
            version: version.to_string(),
            images: HashMap::new(),
        })
    }

    /// The Debian file a `kind` TLV of `chip` is made from.
    pub fn input_path(&self, chip: Chipset, kind: TlvKind) -> PathBuf {
        self.firmware_dir.join(chip.gsp_dir()).join(format!(
            "{}-{}.bin",
            kind.debian_stem(),
            self.version
        ))
    }

    /// The chips whose `nvidia/<chip>/gsp/` directory holds at least one file of this
    /// version, and the chips with such a directory that holds none.
    pub fn present_chips(&self) -> Result<(Vec<Chipset>, Vec<Chipset>), Error> {
        let suffix = format!("-{}.bin", self.version);
        let mut present = Vec::new();
        let mut other_versions = Vec::new();
        for &chip in Chipset::ALL {
            let dir = self.firmware_dir.join(chip.gsp_dir());
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(Error::io(&dir, "list", e)),
            };
            let mut found = false;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, "list", e))?;
                if entry.file_name().to_string_lossy().ends_with(&suffix) {
                    found = true;
                    break;
                }
            }
            if found {
                present.push(chip);
            } else {
                other_versions.push(chip);
            }
        }
        Ok((present, other_versions))
    }

    /// Reads, checks and converts every file `chip` needs.
    pub fn plan_chip(&mut self, chip: Chipset) -> Result<Plan, Error> {
        let mut plan = Vec::new();
        let dir = PathBuf::from(chip.gsp_dir());
        for &kind in chip.tlv_files() {
            let path = self.input_path(chip, kind);
            let needed_for = format!("{}/{}", chip.gsp_dir(), kind.tlv_name());
            let bad = |e: ConvertError| Error::BadInput {
                path: path.clone(),
                reason: e.to_string(),
            };
            let content = match kind {
                TlvKind::Gsp => {
                    let (tlv, image) = self.convert_gsp(chip, &path, &needed_for)?;
                    plan.push(Planned {
                        chip,
                        rel_path: dir.join(GSP_IMAGE_FILE),
                        content: Content::Image(image),
                    });
                    tlv
                }
                _ => {
                    let file = read_input(&path, &needed_for, &self.version)?;
                    let v = &self.version;
                    match kind {
                        TlvKind::GspBootloader => convert::gsp_bootloader(&file, v),
                        TlvKind::BooterLoad | TlvKind::BooterUnload => {
                            convert::booter(kind, &file, v)
                        }
                        TlvKind::GenBootloader => convert::gen_bootloader(&file, v),
                        TlvKind::Fmc => convert::fmc(&file, v),
                        TlvKind::Gsp => Err(ConvertError::Inconsistent(
                            "internal error: gsp handled above".to_string(),
                        )),
                    }
                    .map_err(bad)?
                }
            };
            plan.push(Planned {
                chip,
                rel_path: dir.join(kind.tlv_name()),
                content: Content::Tlv(content),
            });
        }
        Ok(plan)
    }

    /// Converts `gsp-<version>.bin` for `chip`, reading each distinct input file once.
    fn convert_gsp(
        &mut self,
        chip: Chipset,
        path: &Path,
        needed_for: &str,
    ) -> Result<(Vec<u8>, Rc<GspImage>), Error> {
        let bad = |e: ConvertError| Error::BadInput {
            path: path.to_path_buf(),
            reason: format!("{e} (converting for {chip})"),
        };
        let canonical = match fs::canonicalize(path) {
            Ok(p) => p,
            // Let read_input() report the missing file.
            Err(_) => {
                read_input(path, needed_for, &self.version)?;
                path.to_path_buf()
            }
        };
        if let Some(image) = self.images.get(&canonical) {
            let image = Rc::clone(image);
            let conv =
                convert::gsp(&image.file, chip.signature_section(), &self.version).map_err(bad)?;
            return Ok((conv.tlv, image));
        }
        let file = read_input(path, needed_for, &self.version)?;
        let conv = convert::gsp(&file, chip.signature_section(), &self.version).map_err(bad)?;
        let image = Rc::new(GspImage {
            source: canonical.clone(),
            file,
            range: conv.image,
        });
        self.images.insert(canonical, Rc::clone(&image));
        Ok((conv.tlv, image))
    }
}
