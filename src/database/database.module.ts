import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseHealthRepository } from './database-health.repository';
import { dataSourceOptions } from './data-source-options';
import { migrateExclusively } from './migrate';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: config.dataDir }),
        migrationsRun: config.migrateOnBoot,
        // startServer() has already connected once and said why it could not; retries would only bury that.
        retryAttempts: 0,
      }),
      // migrationsRun is carried out here, under the lock that keeps instances booting together from migrating at once.
      dataSourceFactory: async (options) => {
        const { migrationsRun, ...rest } = options as DataSourceOptions;
        const dataSource = await new DataSource({ ...rest, migrationsRun: false } as DataSourceOptions).initialize();
        if (migrationsRun) await migrateExclusively(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [DatabaseHealthRepository],
  exports: [DatabaseHealthRepository],
})
export class DatabaseModule {}
