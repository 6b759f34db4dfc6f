import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  createOrm,
  DEFAULT_ORGANIZATION_ID,
  MediaFileSchema,
  migrate,
  migrationsList,
  OrganizationSchema,
  ProcessingJobSchema,
  type MediaFile,
  type MediaStatus,
  type MediaType,
  type ProcessingJob,
} from '#entities/index.js';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL must point at the (migrated) test database');

let orm: MikroORM;
const createdMediaIds: string[] = [];
const createdJobIds: string[] = [];

beforeAll(async () => {
  // The global setup has normally migrated already; this makes the test self-sufficient either way.
  await migrate(databaseUrl);
  orm = await createOrm({ url: databaseUrl, poolMax: 2 });
});

afterAll(async () => {
  if (!orm) return;
  const em = orm.em.fork();
  if (createdJobIds.length) await em.nativeDelete(ProcessingJobSchema, { id: { $in: createdJobIds } });
  if (createdMediaIds.length) await em.nativeDelete(MediaFileSchema, { id: { $in: createdMediaIds } });
  await orm.close(true);
});

function newMediaData(overrides: { mediaType?: MediaType; status?: MediaStatus } = {}) {
  const id = randomUUID();
  createdMediaIds.push(id);
  return {
    id,
    organization: DEFAULT_ORGANIZATION_ID,
    originalFilename: 'cat.png',
    storedFilename: `${id}.png`,
    mimeType: 'image/png',
    mediaType: 'image' as const,
    fileSizeBytes: 2 ** 40 + 7, // > 2^32: must survive bigint <-> number
    storagePath: `media/${id}.png`,
    checksumMd5: 'd41d8cd98f00b204e9800998ecf8427e',
    checksumSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    metadata: { width: 640, height: 480, exif: { camera: 'X', tags: ['a', 'b'] }, note: null },
    expiresAt: new Date(Date.now() + 86_400_000),
    ...overrides,
  };
}

describe('entities + initial migration', () => {
  test('migration created the tables, indexes and the default organization', async () => {
    const em = orm.em.fork();
    const tables = await em.execute<{ table_name: string }[]>(
      `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['organizations', 'media_files', 'processing_jobs', 'mikro_orm_migrations']),
    );

    const indexes = await em.execute<{ indexname: string }[]>(
      `select indexname from pg_indexes where tablename in ('media_files', 'processing_jobs')`,
    );
    const names = indexes.map((i) => i.indexname);
    expect(names).toEqual(
      expect.arrayContaining([
        'media_files_organization_id_media_type_index',
        'media_files_expires_at_index',
        'processing_jobs_organization_id_status_index',
        'processing_jobs_status_priority_index',
        'processing_jobs_workflow_id_unique',
      ]),
    );
    // Lookups by organization use the wider indexes that lead with it; the narrow ones were dropped.
    expect(names).not.toContain('media_files_organization_id_index');
    expect(names).not.toContain('processing_jobs_organization_id_index');

    const org = await em.findOneOrFail(OrganizationSchema, DEFAULT_ORGANIZATION_ID);
    expect(org).toMatchObject({ name: 'Default', slug: 'default', email: 'admin@localhost', settings: {}, metadata: {} });
    expect(org.deletedAt).toBeNull();
    expect(org.createdAt).toBeInstanceOf(Date);
  });

  test('entity metadata matches the migrated schema (no pending schema diff)', async () => {
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    // Only statements touching our tables: the shared test DB may hold tables MikroORM doesn't know.
    const ours = diff
      .split('\n')
      .filter((line) => /"(organizations|media_files|processing_jobs)"/.test(line));
    expect(ours).toEqual([]);
  });

  test('insert a media file and a job, read them back with the right types', async () => {
    const data = newMediaData();
    {
      const em = orm.em.fork();
      const file = em.create(MediaFileSchema, data);
      expect(file.status).toBe('processing'); // defaults are applied by em.create
      const job = em.create(ProcessingJobSchema, {
        organization: DEFAULT_ORGANIZATION_ID,
        inputMedia: file,
        actionId: 'image.resize',
        actionCategory: 'modify',
        parameters: { width: 100, fit: 'cover', nested: { list: [1, 2.5, 'x', true, null] } },
      });
      // onCreate hooks run inside em.create, so the id is known before flush (e.g. for workflow ids)
      expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
      job.workflowId = `job-${job.id}`;
      createdJobIds.push(job.id);
      await em.flush();
    }

    const em = orm.em.fork();
    const file: MediaFile = await em.findOneOrFail(MediaFileSchema, {
      id: data.id,
      organization: DEFAULT_ORGANIZATION_ID,
    });
    const size: number = file.fileSizeBytes;
    expect(typeof size).toBe('number');
    expect(size).toBe(2 ** 40 + 7);
    expect(file.metadata).toEqual(data.metadata);
    expect(file.mediaType).toBe('image');
    expect(file.status).toBe('processing');
    expect(file.expiresAt).toBeInstanceOf(Date);
    expect(file.expiresAt.getTime()).toBe(data.expiresAt.getTime());
    expect(file.createdAt).toBeInstanceOf(Date);
    expect(file.thumbnailPath ?? null).toBeNull();
    expect(file.uploadedByUserId ?? null).toBeNull();
    expect(file.organization.id).toBe(DEFAULT_ORGANIZATION_ID);

    const [job] = await em.find(ProcessingJobSchema, { inputMedia: file.id }, { populate: ['inputMedia'] });
    expect(job).toBeDefined();
    const j = job as ProcessingJob;
    expect(j.status).toBe('pending');
    expect(j.priority).toBe(50);
    expect(j.progress).toBe(0);
    expect(j.retryCount).toBe(0);
    expect(j.maxRetries).toBe(3);
    expect(j.workflowId).toBe(`job-${j.id}`);
    expect(j.parameters).toEqual({ width: 100, fit: 'cover', nested: { list: [1, 2.5, 'x', true, null] } });
    expect(j.resultData ?? null).toBeNull();
    expect(j.inputMedia.isInitialized()).toBe(true);
    expect(j.inputMedia.getEntity().storedFilename).toBe(data.storedFilename);

    // update: status, progress, jsonb result, a result file; updatedAt moves
    const before = j.updatedAt.getTime();
    await new Promise((r) => setTimeout(r, 5));
    const result = em.create(MediaFileSchema, newMediaData({ mediaType: 'image', status: 'ready' }));
    j.status = 'completed';
    j.progress = 1;
    j.completedAt = new Date();
    j.resultType = 'json';
    j.resultData = { segments: [{ start: 0, end: 1.5, text: 'hi' }] };
    j.resultMedia = em.getReference(MediaFileSchema, result.id, { wrapped: true });
    await em.flush();
    expect(j.updatedAt.getTime()).toBeGreaterThan(before);

    const em2 = orm.em.fork();
    const reread = await em2.findOneOrFail(ProcessingJobSchema, j.id);
    expect(reread.status).toBe('completed');
    expect(reread.progress).toBe(1);
    expect(reread.resultData).toEqual({ segments: [{ start: 0, end: 1.5, text: 'hi' }] });
    expect(reread.resultMedia?.id).toBe(result.id);
    expect(reread.updatedAt.getTime()).toBeGreaterThan(before);
  });

  test('the database rejects invalid enum values and out-of-range progress', async () => {
    const em = orm.em.fork();
    const d = newMediaData();
    const insert = (mediaType: string) =>
      em.execute(
        `insert into media_files (id, organization_id, original_filename, stored_filename, mime_type, media_type,
           file_size_bytes, storage_path, checksum_md5, checksum_sha256, expires_at)
         values (?, ?, 'a', 'b', 'c', ?, 1, 'p', 'm', 's', now())`,
        [d.id, DEFAULT_ORGANIZATION_ID, mediaType],
      );
    await expect(insert('video')).rejects.toThrow(/media_files_media_type_check/);
    await expect(insert('IMAGE')).rejects.toThrow(/media_files_media_type_check/);

    // Through the ORM it never reaches the DB: the TS types forbid it and MikroORM validates enum
    // items on flush (ValidationError "Trying to set MediaFile.status ... to 'bogus'").
    em.create(MediaFileSchema, newMediaData({ status: 'bogus' as never }));
    await expect(em.flush()).rejects.toThrow(/MediaFile\.status/);
    em.clear();

    const ok = em.create(MediaFileSchema, newMediaData());
    await em.flush();
    const job = em.create(ProcessingJobSchema, {
      organization: DEFAULT_ORGANIZATION_ID,
      inputMedia: ok,
      actionId: 'x',
      actionCategory: 'process',
    });
    createdJobIds.push(job.id);
    await em.flush();
    for (const [column, value, constraint] of [
      ['status', 'done', 'processing_jobs_status_check'],
      ['action_category', 'convert', 'processing_jobs_action_category_check'],
      ['result_type', 'blob', 'processing_jobs_result_type_check'],
      ['progress', 1.5, 'processing_jobs_progress_check'],
    ] as const) {
      await expect(
        em.execute(`update processing_jobs set ${column} = ? where id = ?`, [value, job.id]),
      ).rejects.toThrow(new RegExp(constraint));
    }
  });

  test('raw inserts get DB-side defaults (uuid, jsonb {}, timestamps, status)', async () => {
    const em = orm.em.fork();
    const [row] = await em.execute<{ id: string; metadata: unknown; status: string; created_at: unknown }[]>(
      `insert into media_files (organization_id, original_filename, stored_filename, mime_type, media_type,
         file_size_bytes, storage_path, checksum_md5, checksum_sha256, expires_at)
       values (?, 'a', 'b', 'c', 'audio', 5, 'p', 'm', 's', now())
       returning id, metadata, status, created_at`,
      [DEFAULT_ORGANIZATION_ID],
    );
    expect(row).toBeDefined();
    createdMediaIds.push(row!.id);
    expect(row!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row!.metadata).toEqual({});
    expect(row!.status).toBe('processing');
    expect(row!.created_at).toBeTruthy();
  });

  test('migrate() is idempotent', async () => {
    expect(await migrate(databaseUrl)).toEqual([]);
    expect(await migrate(databaseUrl)).toEqual([]);
    const rows = await orm.em
      .fork()
      .execute<{ name: string }[]>(`select name from mikro_orm_migrations order by id`);
    expect(rows.map((r) => r.name)).toEqual(migrationsList.map((m) => m.name));
  });
});
