//! Who signs content credentials: a [`SigningIdentity`] is a certificate
//! chain (end-entity first, then its CA) and the end-entity's private key,
//! both PEM. A user brings their own ([`SigningIdentity::from_files`]); without
//! one, every clip is signed by the process's local identity
//! ([`SigningIdentity::local`]): a CA and a signing certificate made in this
//! process (ES256, P-256 keys from the OS's random source), whose subjects
//! say they are local and untrusted, and which no verifier trusts.
//!
//! Certificates are made with `rcgen` over `p256` (pure Rust, no OpenSSL, no
//! ring or aws-lc). C2PA refuses a self-signed signing certificate, and wants
//! key usage `digitalSignature`, an extended key usage such as
//! `emailProtection`, and an authority key identifier: [`SigningIdentity::generate`]
//! makes exactly that.

use std::path::Path;
use std::sync::{Arc, Mutex};

use c2pa::SigningAlg;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm, SigningKey,
    PKCS_ECDSA_P256_SHA256,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{Error, Result};

/// The subject name (CN) of the local identity's signing certificate.
pub const LOCAL_SIGNER_NAME: &str = "sora local signer (untrusted, made per process)";
/// The subject name (CN) of the local identity's CA.
pub const LOCAL_CA_NAME: &str = "sora local CA (untrusted, made per process)";
/// The organisation (O) of both local certificates.
pub const LOCAL_ORGANIZATION: &str = "sora local identity - not trusted";

/// A certificate chain and private key that sign content credentials.
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct SigningIdentity {
    cert_chain_pem: String,
    private_key_pem: String,
    alg: SigningAlg,
    subject: String,
    issuer: String,
    local: bool,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("alg", &self.alg.to_string())
            .field("local", &self.local)
            .field("private_key", &"<hidden>")
            .finish()
    }
}

/// The process's local identity, made on first use.
static LOCAL: Mutex<Option<Arc<SigningIdentity>>> = Mutex::new(None);

/// A P-256 key for `rcgen`, signing with `p256` (ECDSA-SHA256, DER signatures).
struct P256Key {
    key: p256::ecdsa::SigningKey,
    public: Vec<u8>,
}

impl P256Key {
    /// A new key from the OS's random source.
    fn generate() -> Result<Self> {
        // A scalar must be in [1, n): retry on the (2^-128) chance it is not.
        for _ in 0..8 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| Error::Device(format!("no random source for a signing key: {e}")))?;
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                let public = key
                    .verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec();
                return Ok(Self { key, public });
            }
        }
        Err(Error::Device(
            "the random source gave no valid P-256 key".into(),
        ))
    }

    fn pkcs8_pem(&self) -> Result<String> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| Error::Numeric(format!("cannot encode a signing key: {e}")))
    }
}

impl PublicKeyData for P256Key {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for P256Key {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        let sig: p256::ecdsa::Signature = self.key.sign(msg);
        Ok(sig.to_der().as_bytes().to_vec())
    }
}

fn cert_error(e: rcgen::Error) -> Error {
    Error::Numeric(format!("cannot make a certificate: {e}"))
}

/// A random positive 16-byte serial number.
fn serial() -> Result<SerialNumber> {
    let mut s = [0u8; 16];
    getrandom::fill(&mut s)
        .map_err(|e| Error::Device(format!("no random source for a serial number: {e}")))?;
    s[0] = (s[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&s))
}

fn name(cn: &str, org: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, org);
    dn
}

/// The DER of every `CERTIFICATE` block in `pem`, in order.
fn chain_ders(pem: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| format!("not PEM: {e}"))?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    if out.is_empty() {
        return Err("holds no `-----BEGIN CERTIFICATE-----` block".into());
    }
    Ok(out)
}

/// The C2PA algorithm that signs with the key of `cert`'s public key.
fn alg_of(cert: &X509Certificate<'_>) -> std::result::Result<SigningAlg, String> {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    match (alg.as_str(), curve.as_deref()) {
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => Ok(SigningAlg::Es256),
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => Ok(SigningAlg::Es384),
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => Ok(SigningAlg::Es512),
        ("1.3.101.112", _) => Ok(SigningAlg::Ed25519),
        ("1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10", _) => Ok(SigningAlg::Ps256),
        (a, c) => Err(format!(
            "the certificate's key type ({a}{}) is not one C2PA signs with (EC P-256/384/521, Ed25519 or RSA)",
            c.map(|c| format!(", curve {c}")).unwrap_or_default()
        )),
    }
}

impl SigningIdentity {
    /// An identity from a PEM certificate chain (the signing certificate
    /// first, then the CAs that issued it; the root may be left out) and the
    /// signing certificate's PKCS#8 PEM private key. The algorithm follows the
    /// key: ES256/384/512 for EC P-256/384/521, Ed25519, PS256 for RSA.
    ///
    /// Checked now: the chain parses, the signing certificate meets C2PA's
    /// profile (X.509 v3, not a CA, key usage `digitalSignature`, an allowed
    /// extended key usage such as `emailProtection` or `documentSigning`, an
    /// authority key identifier, currently valid), the key reads and belongs
    /// to that certificate. Any failure is [`Error::InvalidRequest`] saying
    /// what is wrong.
    pub fn from_pem(cert_chain_pem: &str, private_key_pem: &str) -> Result<Self> {
        Self::check(
            "the signing certificate",
            cert_chain_pem,
            private_key_pem,
            false,
        )
    }

    /// [`SigningIdentity::from_pem`] with the PEM read from two files
    /// (errors name them).
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| Error::io(p, e));
        let (chain, pkey) = (read(cert)?, read(key)?);
        Self::check(
            &format!(
                "signing certificate {} (key {})",
                cert.display(),
                key.display()
            ),
            &chain,
            &pkey,
            false,
        )
    }

    fn check(what: &str, chain: &str, key: &str, local: bool) -> Result<Self> {
        let bad = |reason: String| Error::invalid(format!("{what}: {reason}"));
        let ders = chain_ders(chain).map_err(bad)?;
        let (_, leaf) = X509Certificate::from_der(&ders[0])
            .map_err(|e| bad(format!("the first certificate does not parse: {e}")))?;
        let alg = alg_of(&leaf).map_err(bad)?;
        let mut log = c2pa::status_tracker::StatusTracker::default();
        c2pa::crypto::cose::check_end_entity_certificate_profile(
            &ders[0],
            &c2pa::crypto::cose::CertificateTrustPolicy::default(),
            &mut log,
            None,
        )
        .map_err(|e| {
            bad(format!(
                "the signing certificate does not meet C2PA's certificate profile ({e}): it must be \
                 an X.509 v3 end-entity certificate (not a CA, not self-signed) that is valid now, \
                 with key usage digitalSignature, an extended key usage such as emailProtection or \
                 documentSigning (not anyExtendedKeyUsage) and an authority key identifier"
            ))
        })?;
        let signer = c2pa::create_signer::from_keys(chain.as_bytes(), key.as_bytes(), alg, None)
            .map_err(|e| {
                bad(format!(
                    "the private key does not read as PKCS#8 PEM for {alg}: {e}"
                ))
            })?;
        // The key must be the certificate's: sign a message and check it with
        // the certificate's public key.
        let probe = b"sora signing identity check";
        let sig = signer
            .sign(probe)
            .map_err(|e| bad(format!("the private key cannot sign: {e}")))?;
        if let Some(v) = c2pa::crypto::raw_signature::validator_for_signing_alg(alg) {
            v.validate(&sig, probe, leaf.public_key().raw)
                .map_err(|_| {
                    bad("the private key does not belong to the signing certificate".into())
                })?;
        }
        Ok(Self {
            cert_chain_pem: chain.to_string(),
            private_key_pem: key.to_string(),
            alg,
            subject: leaf.subject().to_string(),
            issuer: leaf.issuer().to_string(),
            local,
        })
    }

    /// A new CA and a signing certificate issued by it (ES256; valid from an
    /// hour ago for `days` days): the signing certificate's subject is
    /// `CN=<signer>, O=<organization>`, the CA's `CN=<ca>, O=<organization>`.
    /// For tests and for local use; nothing trusts the CA unless told to
    /// (its certificate is [`SigningIdentity::root_pem`]).
    pub fn generate(signer: &str, ca: &str, organization: &str, days: u32) -> Result<Self> {
        Self::generate_marked(signer, ca, organization, days, false)
    }

    fn generate_marked(
        signer: &str,
        ca: &str,
        organization: &str,
        days: u32,
        local: bool,
    ) -> Result<Self> {
        let now = time::OffsetDateTime::now_utc();
        let not_before = now - time::Duration::hours(1);
        let not_after = now + time::Duration::days(i64::from(days.max(1)));

        let ca_key = P256Key::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        ca_params.distinguished_name = name(ca, organization);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = not_before;
        ca_params.not_after = not_after;
        ca_params.serial_number = Some(serial()?);
        let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_error)?;

        let leaf_key = P256Key::generate()?;
        let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        leaf.distinguished_name = name(signer, organization);
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = not_before;
        leaf.not_after = not_after;
        leaf.serial_number = Some(serial()?);
        let issuer = Issuer::new(ca_params, &ca_key);
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(cert_error)?;

        let chain = format!("{}{}", leaf_cert.pem(), ca_cert.pem());
        Self::check(
            "a generated certificate",
            &chain,
            &leaf_key.pkcs8_pem()?,
            local,
        )
    }

    /// The process's local identity: made on first use (a CA and a signing
    /// certificate, ES256, valid for 30 days, named [`LOCAL_SIGNER_NAME`],
    /// [`LOCAL_CA_NAME`], [`LOCAL_ORGANIZATION`]) and the same for every clip
    /// this process signs. Its key is never written anywhere; no verifier
    /// trusts it (`sora verify` reports `trusted: false`), but its
    /// signatures bind the manifest to the file like any other.
    pub fn local() -> Result<Arc<Self>> {
        let mut slot = LOCAL.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = slot.as_ref() {
            return Ok(id.clone());
        }
        let id = Arc::new(Self::generate_marked(
            LOCAL_SIGNER_NAME,
            LOCAL_CA_NAME,
            LOCAL_ORGANIZATION,
            30,
            true,
        )?);
        *slot = Some(id.clone());
        Ok(id)
    }

    /// The certificate chain, PEM (signing certificate first).
    pub fn cert_chain_pem(&self) -> &str {
        &self.cert_chain_pem
    }

    /// The private key, PKCS#8 PEM (to write an identity made by
    /// [`SigningIdentity::generate`] to files).
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// The last certificate of the chain, PEM: for a generated identity its
    /// CA, the trust anchor a verifier needs to trust it.
    pub fn root_pem(&self) -> String {
        let mut last = String::new();
        let mut current = String::new();
        for line in self.cert_chain_pem.lines() {
            if line.starts_with("-----BEGIN CERTIFICATE") {
                current.clear();
            }
            current.push_str(line);
            current.push('\n');
            if line.starts_with("-----END CERTIFICATE") {
                last = current.clone();
            }
        }
        last
    }

    /// The signing algorithm (from the key type).
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The signing certificate's subject, e.g. `CN=…, O=…`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The signing certificate's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether this is the process's local identity ([`SigningIdentity::local`]).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// A C2PA signer with this identity (no time-stamp authority: sora never
    /// reaches the network).
    pub(crate) fn signer(&self) -> Result<c2pa::BoxedSigner> {
        c2pa::create_signer::from_keys(
            self.cert_chain_pem.as_bytes(),
            self.private_key_pem.as_bytes(),
            self.alg,
            None,
        )
        .map_err(|e| Error::invalid(format!("signing identity {}: {e}", self.subject)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_chain_meets_the_profile_and_the_local_one_is_shared() {
        let id = SigningIdentity::generate("test signer", "test CA", "sora tests", 1).unwrap();
        assert_eq!(id.alg(), SigningAlg::Es256);
        assert_eq!(id.subject(), "CN=test signer, O=sora tests");
        assert_eq!(id.issuer(), "CN=test CA, O=sora tests");
        assert!(!id.is_local());
        assert_eq!(id.cert_chain_pem().matches("BEGIN CERTIFICATE").count(), 2);
        assert!(id.root_pem().starts_with("-----BEGIN CERTIFICATE"));
        assert!(id.cert_chain_pem().ends_with(&id.root_pem()));
        assert!(!format!("{id:?}").contains("PRIVATE"));
        // Round trip through PEM.
        let again = SigningIdentity::from_pem(id.cert_chain_pem(), id.private_key_pem()).unwrap();
        assert_eq!(again.subject(), id.subject());

        let a = SigningIdentity::local().unwrap();
        let b = SigningIdentity::local().unwrap();
        assert!(Arc::ptr_eq(&a, &b) && a.is_local());
        assert!(a.subject().contains("untrusted"), "{}", a.subject());
    }

    #[test]
    fn bad_identities_say_what_is_wrong() {
        let id = SigningIdentity::generate("s", "c", "o", 1).unwrap();
        let other = SigningIdentity::generate("s2", "c2", "o", 1).unwrap();
        // Another certificate's key.
        let e = SigningIdentity::from_pem(id.cert_chain_pem(), other.private_key_pem())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not belong"), "{e}");
        // The CA alone (a CA is not a signing certificate).
        let e = SigningIdentity::from_pem(&id.root_pem(), id.private_key_pem())
            .unwrap_err()
            .to_string();
        assert!(e.contains("profile"), "{e}");
        // Not PEM at all; a key that is not a key.
        let e = SigningIdentity::from_pem("hello", id.private_key_pem()).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        let e = SigningIdentity::from_pem(id.cert_chain_pem(), "nope")
            .unwrap_err()
            .to_string();
        assert!(e.contains("private key"), "{e}");
        // Missing files are I/O errors naming the file.
        let e = SigningIdentity::from_files(Path::new("/nonexistent/c.pem"), Path::new("k"))
            .unwrap_err();
        assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("/nonexistent/c.pem"));
    }
}
