//! The S3-compatible backend (AWS S3, Cloudflare R2, MinIO, s3s-fs) through aws-sdk-s3.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::{ObjectInfo, ObjectKey, PresignedUrl, StorageError, UploadedPart};
use crate::settings::S3Settings;

#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    endpoint: String,
}

fn refused(e: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse ("service error"); the source chain says what happened.
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    StorageError::Refused(detail)
}

impl S3Store {
    pub fn new(settings: &S3Settings) -> Self {
        let credentials = Credentials::new(
            settings.access_key_id.clone(),
            settings.secret_access_key.expose().to_owned(),
            None,
            None,
            "printstall-settings",
        );
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(settings.endpoint.clone())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: settings.bucket.clone(),
            endpoint: settings.endpoint.clone(),
        }
    }

    pub fn describe(&self) -> String {
        format!("S3 bucket {} at {}", self.bucket, self.endpoint)
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            self.client.head_bucket().bucket(&self.bucket).send(),
        )
        .await;
        match answer {
            Err(_) => Err(StorageError::Unreachable {
                endpoint: self.endpoint.clone(),
                detail: "no answer within 10 s".into(),
            }),
            Ok(Err(aws_sdk_s3::error::SdkError::DispatchFailure(e))) => {
                Err(StorageError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    detail: format!("{e:?}"),
                })
            }
            // The SDK's own connect or attempt timeout (a slow or loaded machine) is also
            // a store that does not answer, not one that refused the bucket.
            Ok(Err(aws_sdk_s3::error::SdkError::TimeoutError(_))) => {
                Err(StorageError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    detail: "the connection timed out".into(),
                })
            }
            Ok(Err(e)) => Err(StorageError::Refused(format!(
                "bucket {} cannot be used ({}); check S3_BUCKET and the keys",
                self.bucket,
                refused(e)
            ))),
            Ok(Ok(_)) => Ok(()),
        }
    }

    pub async fn put(&self, key: &ObjectKey, body: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(refused)?;
        Ok(())
    }

    /// `GET` of the object, or of `range` of it (`bytes=a-b`).
    async fn get_object(
        &self,
        key: &ObjectKey,
        range: Option<String>,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StorageError> {
        let answer = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_range(range)
            .send()
            .await;
        match answer {
            Ok(object) => Ok(Some(object)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            // A range that starts past the end.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => Ok(None),
            Err(e) => Err(refused(e)),
        }
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        let Some(object) = self.get_object(key, None).await? else {
            return Ok(Bytes::new());
        };
        let data = object.body.collect().await.map_err(refused)?;
        Ok(data.into_bytes())
    }

    pub async fn size(&self, key: &ObjectKey) -> Result<u64, StorageError> {
        let answer = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await;
        match answer {
            Ok(head) => Ok(u64::try_from(head.content_length().unwrap_or(0)).unwrap_or(0)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(refused(e)),
        }
    }

    /// A `GET` with a `Range` header; past the end of the object there are no bytes.
    pub async fn read_range(
        &self,
        key: &ObjectKey,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, StorageError> {
        let last = offset.saturating_add(len - 1);
        let Some(object) = self
            .get_object(key, Some(format!("bytes={offset}-{last}")))
            .await?
        else {
            return Ok(Bytes::new());
        };
        if offset > 0 && object.content_range().is_none() {
            return Err(StorageError::Refused(format!(
                "the store ignored the Range header of a read of {key} at {offset}"
            )));
        }
        // Never more than asked, whatever the store sends.
        let mut body = object.body.into_async_read();
        let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        tokio::io::AsyncReadExt::read_to_end(
            &mut tokio::io::AsyncReadExt::take(&mut body, len),
            &mut data,
        )
        .await?;
        Ok(Bytes::from(data))
    }

    pub async fn open(&self, key: &ObjectKey) -> Result<super::ObjectReader, StorageError> {
        match self.get_object(key, None).await? {
            Some(object) => Ok(Box::pin(object.body.into_async_read())),
            None => Ok(Box::pin(tokio::io::empty())),
        }
    }

    /// Deletes the current objects under the prefix, then any older versions and delete
    /// markers (a bucket with versioning keeps those; a store without versioning support
    /// answers the version listing with an error, which is fine: it keeps none).
    pub async fn delete_prefix(&self, prefix: &ObjectKey) -> Result<u64, StorageError> {
        let objects = self.list(prefix).await?;
        for object in &objects {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&object.key)
                .send()
                .await
                .map_err(refused)?;
        }
        let mut versions: Vec<(String, String)> = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let answer = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(format!("{prefix}/"))
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await;
            let page = match answer {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!(error = %refused(e), "the store lists no object versions");
                    break;
                }
            };
            for v in page.versions() {
                if let (Some(k), Some(id)) = (v.key(), v.version_id()) {
                    versions.push((k.to_owned(), id.to_owned()));
                }
            }
            for m in page.delete_markers() {
                if let (Some(k), Some(id)) = (m.key(), m.version_id()) {
                    versions.push((k.to_owned(), id.to_owned()));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        }
        for (key, version) in versions.into_iter().filter(|(_, v)| v != "null") {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .version_id(version)
                .send()
                .await
                .map_err(refused)?;
        }
        Ok(objects.len() as u64)
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(refused)?;
        Ok(())
    }

    pub async fn list(&self, prefix: &ObjectKey) -> Result<Vec<ObjectInfo>, StorageError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(format!("{prefix}/"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(refused)?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    found.push(ObjectInfo {
                        key: key.to_owned(),
                        size: u64::try_from(object.size().unwrap_or(0)).unwrap_or(0),
                    });
                }
            }
        }
        Ok(found)
    }

    fn presigning(expires: Duration) -> Result<PresigningConfig, StorageError> {
        PresigningConfig::expires_in(expires).map_err(refused)
    }

    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(Self::presigning(expires)?)
            .await
            .map_err(refused)?;
        Ok(PresignedUrl {
            method: "PUT",
            url: request.uri().to_owned(),
            expires_in_s: expires.as_secs(),
        })
    }

    pub async fn presign_get(
        &self,
        key: &ObjectKey,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(Self::presigning(expires)?)
            .await
            .map_err(refused)?;
        Ok(PresignedUrl {
            method: "GET",
            url: request.uri().to_owned(),
            expires_in_s: expires.as_secs(),
        })
    }

    pub async fn start_multipart(&self, key: &ObjectKey) -> Result<String, StorageError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(refused)?;
        out.upload_id()
            .map(str::to_owned)
            .ok_or_else(|| StorageError::Refused("the store gave no multipart upload id".into()))
    }

    pub async fn presign_part(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        number: u32,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .part_number(i32::try_from(number).unwrap_or(i32::MAX))
            .presigned(Self::presigning(expires)?)
            .await
            .map_err(refused)?;
        Ok(PresignedUrl {
            method: "PUT",
            url: request.uri().to_owned(),
            expires_in_s: expires.as_secs(),
        })
    }

    /// The parts uploaded so far (the store's own record: no ETag has to come back from
    /// the browser, which CORS would hide).
    pub async fn uploaded_parts(
        &self,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<Vec<UploadedPart>, StorageError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let answer = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await;
            let page = match answer {
                Ok(page) => page,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.code() == Some("NoSuchUpload")) =>
                {
                    return Err(StorageError::NotFound(key.to_string()));
                }
                Err(e) => return Err(refused(e)),
            };
            for p in page.parts() {
                if let Some(number) = p.part_number().and_then(|n| u32::try_from(n).ok()) {
                    parts.push(UploadedPart {
                        number,
                        size: u64::try_from(p.size().unwrap_or(0)).unwrap_or(0),
                        etag: p.e_tag().map(str::to_owned),
                    });
                }
            }
            let next = page.next_part_number_marker().map(str::to_owned);
            if page.is_truncated() != Some(true) || next.is_none() || next == marker {
                break;
            }
            marker = next;
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    pub async fn complete_multipart(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<(), StorageError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(i32::try_from(p.number).unwrap_or(i32::MAX))
                            .set_e_tag(p.etag.clone())
                            .build()
                    })
                    .collect(),
            ))
            .build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(refused)?;
        Ok(())
    }

    pub async fn abort_multipart(
        &self,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let answer = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_upload()) => Ok(()),
            Err(e) => Err(refused(e)),
        }
    }
}
