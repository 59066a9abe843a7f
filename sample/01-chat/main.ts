import 'reflect-metadata';
import { createChatApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const app = await createChatApp({ instanceName: process.env.INSTANCE_NAME });
app.enableShutdownHooks();
await app.listen(port);
console.log(`Chat sample on ${(await app.getUrl()).replace(/\[::1?\]|127\.0\.0\.1/, 'localhost')}`);
