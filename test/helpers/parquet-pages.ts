/**
 * Parquet test files with data pages v1: hyparquet-writer writes data pages v2 only, while pyarrow, pandas and
 * Spark write v1 by default, so test files are rewritten with v1 data pages (`toDataPageV1`, the page layouts of
 * the Parquet format: https://parquet.apache.org/docs/file-format/data-pages/).
 */
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { snappyUncompress } from 'hysnappy';

// hyparquet-writer declares its types with its own copy of hyparquet's (an older minor version): the objects
// are the same thrift structures, so they are passed across as the writer's types.
type WriterPageHeader = Parameters<typeof writePageHeader>[1];
type WriterMetadata = Parameters<typeof writeMetadata>[1];

export const bufferOf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

/**
 * The same file with every DATA_PAGE_V2 rewritten as a DATA_PAGE (v1): the levels move into the page body,
 * each prefixed by its 4-byte little-endian length, and the whole body is compressed (Parquet format,
 * DataPageHeader and DataPageHeaderV2 in parquet.thrift). Offsets are recomputed; indexes and statistics dropped.
 */
export function toDataPageV1(bytes: Uint8Array): Uint8Array {
  const file = bufferOf(bytes);
  const metadata = parquetMetadata(file);
  const writer = new ByteWriter();
  writer.appendUint32(0x31524150);
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const reader = { view: new DataView(file, start, Number(meta.total_compressed_size)), offset: 0 };
      const chunkStart = writer.offset;
      let dataStart: number | undefined;
      while (reader.offset < reader.view.byteLength) {
        const header = parquetHeader(reader);
        const body = new Uint8Array(file, start + reader.offset, header.compressed_page_size);
        reader.offset += header.compressed_page_size;
        const v2 = header.data_page_header_v2;
        if (!v2) {
          writePageHeader(writer, header as WriterPageHeader);
          writer.appendBytes(body);
          continue;
        }
        dataStart ??= writer.offset;
        const levelsEnd = v2.repetition_levels_byte_length + v2.definition_levels_byte_length;
        const valueBytes = body.subarray(levelsEnd);
        const values =
          meta.codec === 'SNAPPY' && v2.is_compressed !== false ? snappyUncompress(valueBytes, header.uncompressed_page_size - levelsEnd) : valueBytes;
        const parts: Uint8Array[] = [];
        for (const [from, length] of [
          [0, v2.repetition_levels_byte_length],
          [v2.repetition_levels_byte_length, v2.definition_levels_byte_length],
        ]) {
          if (length === 0) continue;
          const prefix = new Uint8Array(4);
          new DataView(prefix.buffer).setUint32(0, length, true);
          parts.push(prefix, body.subarray(from, from + length));
        }
        parts.push(values);
        const page = concat(parts);
        const stored = meta.codec === 'SNAPPY' ? snappyCompress(page) : page;
        writePageHeader(writer, {
          type: 'DATA_PAGE',
          uncompressed_page_size: page.length,
          compressed_page_size: stored.length,
          data_page_header: { num_values: v2.num_values, encoding: v2.encoding, definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
        } as WriterPageHeader);
        writer.appendBytes(stored);
      }
      meta.dictionary_page_offset = meta.dictionary_page_offset ? BigInt(chunkStart) : undefined;
      meta.data_page_offset = BigInt(dataStart!);
      meta.total_compressed_size = BigInt(writer.offset - chunkStart);
      meta.total_uncompressed_size = meta.total_compressed_size;
      meta.statistics = undefined;
      meta.encoding_stats = undefined;
      chunk.file_offset = BigInt(chunkStart);
      chunk.offset_index_offset = chunk.offset_index_length = chunk.column_index_offset = chunk.column_index_length = undefined;
    }
    group.file_offset = group.total_compressed_size = undefined;
  }
  writeMetadata(writer, metadata as WriterMetadata);
  writer.appendUint32(0x31524150);
  return new Uint8Array(writer.getBuffer());
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The page types of a file's column chunks (to check a fixture is what it claims). */
export function pageTypes(bytes: Uint8Array): Set<string> {
  const file = bufferOf(bytes);
  const types = new Set<string>();
  for (const group of parquetMetadata(file).row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const reader = { view: new DataView(file, start, Number(meta.total_compressed_size)), offset: 0 };
      while (reader.offset < reader.view.byteLength) {
        const header = parquetHeader(reader);
        types.add(`${header.type} ${header.data_page_header?.encoding ?? header.data_page_header_v2?.encoding ?? ''}`.trim());
        reader.offset += header.compressed_page_size;
      }
    }
  }
  return types;
}
