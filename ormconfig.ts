import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source-options';

/** For the TypeORM CLI (`npm run migration:run`): DATABASE_URL, or the embedded database of DATA_DIR. */
export default new DataSource(
  dataSourceOptions({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.DATA_DIR ?? '.devicegate' }),
);
