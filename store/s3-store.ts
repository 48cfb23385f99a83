import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { ArtifactNotFoundError, StoreAuthError } from '../common/errors';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './artifact-store';
import { assertValidKey, assertValidPrefix } from './keys';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from './retry';

export interface S3StoreConfig {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `team-a/studies`; '' for the bucket root. */
  prefix?: string;
  /** Custom endpoint for S3-compatible servers (versitygw, MinIO, Ceph); omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Explicit credentials; omit to use the AWS SDK's default provider chain (env, profile, IMDS...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. Default true. */
  forcePathStyle?: boolean;
  /** Create the bucket when it does not exist. */
  createBucket?: boolean;
  retry?: RetryOptions;
  /** Multipart part size for streamed uploads (bytes, >= 5 MiB). */
  partSize?: number;
  /**
   * The rule keys (and the prefix) must follow; default the artifact-key rule (store/keys.ts). A dataset's
   * objects are read with the dataset-name rule instead (store/s3-prefix-opener.ts).
   */
  checkKey?: (key: string) => void;
}

const AUTH_ERRORS = [
  'InvalidAccessKeyId',
  'XAdminUserNotFound',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
];

/** S3 (or any S3-compatible server). A single PUT or a completed multipart upload is atomic on S3. */
export class S3ArtifactStore implements ArtifactStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly retry: RetryOptions;
  private readonly checkKey: (key: string) => void;
  private bucketChecked: Promise<void> | undefined;

  constructor(private readonly config: S3StoreConfig) {
    this.prefix = (config.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.checkKey = config.checkKey ?? assertValidKey;
    if (this.prefix) this.checkKey(this.prefix);
    // the location is in logs and error messages: an endpoint's user:password@, if any, is left out
    const endpoint = config.endpoint?.replace(/\/\/[^/@]*@/, '//');
    this.location = `s3://${config.bucket}${this.prefix ? `/${this.prefix}` : ''}${endpoint ? ` at ${endpoint}` : ''}`;
    this.retry = config.retry ?? DEFAULT_RETRY;
    const clientConfig: S3ClientConfig = {
      region: config.region ?? 'us-east-1',
      forcePathStyle: config.forcePathStyle ?? true,
      maxAttempts: 3,
    };
    if (config.endpoint) clientConfig.endpoint = config.endpoint;
    if (config.credentials) clientConfig.credentials = config.credentials;
    this.client = new S3Client(clientConfig);
  }

  private objectKey(key: string): string {
    this.checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** Checks the bucket once (and creates it when asked), so that a wrong credential fails early and clearly. */
  private ready(): Promise<void> {
    // ListObjects rather than HeadBucket: HEAD responses carry no error code, and some servers answer an
    // unknown access key with a bare 404 that would read as "no such bucket".
    this.bucketChecked ??= this.call('bucket check', async () => {
      try {
        await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, MaxKeys: 1 }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'NoSuchBucket') throw err;
        if (!this.config.createBucket)
          throw new Error(`S3 bucket "${this.config.bucket}" does not exist (${this.location})`, {
            cause: err,
          });
        await this.client
          .send(new CreateBucketCommand({ Bucket: this.config.bucket }))
          .catch((e: unknown) => {
            if (
              !['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(
                (e as { name?: string }).name ?? '',
              )
            )
              throw e;
          });
      }
    }).catch((err: unknown) => {
      this.bucketChecked = undefined;
      throw err;
    });
    return this.bucketChecked;
  }

  /** Runs one S3 call with retries, translating auth failures into a clear, secret-free error. */
  private async call<T>(what: string, op: () => Promise<T>, retry = true): Promise<T> {
    try {
      return retry ? await withRetry(op, this.retry) : await op();
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (AUTH_ERRORS.includes(e.name ?? '') || e.$metadata?.httpStatusCode === 403) {
        throw new StoreAuthError(
          `S3 refused the credentials for ${this.location} (${e.name ?? 'HTTP 403'}) during ${what}: ` +
            'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the configured profile',
          { cause: err },
        );
      }
      throw err;
    }
  }

  async put(key: string, body: ArtifactBody, options?: { contentType?: string }): Promise<void> {
    await this.ready();
    const Key = this.objectKey(key);
    const ContentType = options?.contentType ?? 'application/octet-stream';
    if (body instanceof Readable) {
      // Multipart: parts become visible only when the upload completes; a failed upload is aborted.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.config.bucket, Key, Body: body, ContentType },
        partSize: this.config.partSize ?? 8 * 1024 * 1024,
        queueSize: 4,
        leavePartsOnError: false,
      });
      // A consumed stream cannot be replayed: the SDK retries single parts, the caller retries the whole.
      await this.call(`upload ${key}`, async () => void (await upload.done()), false);
      return;
    }
    await this.call(`put ${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key, Body: body, ContentType })),
    );
  }

  async get(key: string): Promise<Buffer> {
    const stream = await this.getStream(key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable> {
    await this.ready();
    try {
      const out = await this.call(`get ${key}`, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) })),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<ArtifactInfo | undefined> {
    await this.ready();
    try {
      const out = await this.call(`stat ${key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) })),
      );
      return { size: out.ContentLength ?? 0, modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    await this.ready();
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(`list ${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: full, ContinuationToken: token }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) keys.push(this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.ready();
    await this.call(`delete ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) })),
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
