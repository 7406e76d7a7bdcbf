/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.haproxy;

import org.jspecify.annotations.NullMarked;
