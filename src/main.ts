import 'reflect-metadata';
import { startServer } from './startup/start-server';

void startServer();
