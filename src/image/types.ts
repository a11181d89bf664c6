/**
 * The contract of Pilote's image store: an OCI image layout on disk
 * (index.json + blobs/sha256/…), images named as Docker names them
 * (`nginx` → `docker.io/library/nginx:latest`). Used by `pilote build`,
 * `pilote image …` and the kubelet, which reads images from the same directory.
 */

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<hex>` */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A layer as the store keeps it: the compressed blob and the digest of its uncompressed tar (rootfs diff_id). */
export interface LayerInfo {
  descriptor: Descriptor;
  diffId: string;
}

/** The image configuration (OCI image-spec config.json; Docker's field names). */
export interface ImageConfigFile {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  config: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
}

/** An OCI image manifest (schemaVersion 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image in the store. */
export interface StoredImage {
  /** Full normalized names pointing at it, e.g. `docker.io/library/nginx:latest`. */
  names: string[];
  /** Digest of the manifest: the image's identity. */
  digest: string;
  manifest: ImageManifest;
  config: ImageConfigFile;
  /** Compressed size of config + layers. */
  size: number;
}
