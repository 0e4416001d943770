import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseHealthRepository } from './database-health.repository';
import { dataSourceOptions } from './data-source-options';

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
    }),
  ],
  providers: [DatabaseHealthRepository],
  exports: [DatabaseHealthRepository],
})
export class DatabaseModule {}
