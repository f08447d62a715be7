/** Wires the upload-form routes: the room check, and the S3 client that signs forms. */
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { makeS3Client } from '../adapters/s3/client.js';
import { S3UploadForms } from '../adapters/s3/upload-forms.js';
import { UploadService } from '../domain/uploads.js';
import { filesConfig } from './config.js';
import { clock, type ServiceNeeds, tablesFor } from './wiring.js';

export function buildUploadService(needs: ServiceNeeds): UploadService {
  const { bucket, maxUploadBytes, s3Endpoint } = filesConfig();
  const rooms = new DynamoRoomStore(makeDocumentClient(), tablesFor(needs).rooms);
  return new UploadService(
    { getRoom: (roomId) => rooms.getRoom(roomId) },
    new S3UploadForms(makeS3Client(s3Endpoint), bucket, clock),
    maxUploadBytes,
  );
}
